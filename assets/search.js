// Ctrl+K / Cmd+K, or "/" outside a text field, focuses the sidebar's search box; a search hit
// (class "search-hit") scrolls into view once it is on the page. A file, not an inline script:
// the CSP runs no inline script the build did not emit.
(() => {
  if (window.__searchWired) return;
  window.__searchWired = true;
  document.addEventListener('keydown', (e) => {
    const typing = e.target.closest && e.target.closest('input, textarea, [contenteditable]');
    const ctrlK = (e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'k';
    if (!ctrlK && !(e.key === '/' && !typing)) return;
    const box = document.getElementById('search-box');
    if (!box) return;
    e.preventDefault();
    box.focus();
    box.select();
  });
  let shown = null;
  const reveal = () => {
    const hit = document.querySelector('.search-hit');
    if (hit && hit !== shown) {
      shown = hit;
      hit.scrollIntoView({block: 'center'});
    }
  };
  new MutationObserver(reveal).observe(document.body, {childList: true, subtree: true, attributes: true, attributeFilter: ['class']});
  reveal();
})();
