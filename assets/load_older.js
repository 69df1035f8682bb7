// Clicks "Load older messages" when it scrolls into view, so older history loads on scroll.
(() => {
  if (window.__olderObserver) return;
  window.__olderObserver = new IntersectionObserver((entries) => {
    for (const e of entries) if (e.isIntersecting) e.target.click();
  });
  const watch = () => {
    const b = document.getElementById('load-older');
    if (b && !b.dataset.watched) { b.dataset.watched = '1'; window.__olderObserver.observe(b); }
  };
  new MutationObserver(watch).observe(document.body, {childList: true, subtree: true});
  watch();
})();
