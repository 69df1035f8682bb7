// Keyboard shortcuts of the workspace page (listed in its help dialog, components/shortcuts.py).
// They press the page's own buttons and move focus; none fires while typing in a field where
// it would mean something else ("?" in the message box is a question mark). A file, not an
// inline script: the CSP runs no inline script the build did not emit.
(() => {
  if (window.__shortcutsWired) return;
  window.__shortcutsWired = true;
  const WIDE = '(min-width: 769px)';
  const byId = (id) => document.getElementById(id);
  const typingIn = (target) =>
    target && target.closest && target.closest('input, textarea, select, [contenteditable=""], [contenteditable="true"], [role="combobox"]');
  const overlayOpen = () =>
    document.querySelector('[role="dialog"], [role="alertdialog"], [role="menu"], [role="listbox"]');
  const visible = (el) => el && getComputedStyle(el).display !== 'none';

  const moveSession = (step) => {
    const links = [...document.querySelectorAll('[data-testid="session-row"] a[href]')];
    if (!links.length) return;
    const here = links.findIndex((a) => a.closest('.session-row.active'));
    const next = here < 0 ? (step > 0 ? 0 : links.length - 1) : here + step;
    if (next >= 0 && next < links.length) links[next].click();
  };

  const toggleSidebar = () => {
    const sidebar = document.querySelector('.sidebar');
    if (!sidebar) return;
    const root = document.documentElement;
    if (visible(sidebar)) {
      if (sidebar.classList.contains('open')) {
        document.querySelector('[aria-label="Close the sessions list"]')?.click();
      } else {
        root.classList.add('sidebar-hidden');
      }
    } else if (window.matchMedia(WIDE).matches && root.classList.contains('sidebar-hidden')) {
      root.classList.remove('sidebar-hidden');
    } else {
      document.querySelector('[aria-label="Open the sessions list"]')?.click();
    }
  };

  // Capture phase on window: it runs before a dialog's own Escape handling closes it, so
  // "Esc with a dialog open" is seen as such (and only closes the dialog).
  window.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.isComposing) return;
    const typing = typingIn(e.target);
    const ctrl = e.ctrlKey || e.metaKey;
    const key = e.key;
    let act = null;
    if (ctrl && e.shiftKey && !e.altKey && e.code === 'KeyO') {
      act = () => byId('new-session-button')?.click();
    } else if (ctrl && e.shiftKey && !e.altKey && e.code === 'KeyS') {
      act = toggleSidebar;
    } else if (key === 'Escape' && e.shiftKey && !ctrl && !e.altKey) {
      act = () => byId('composer')?.focus();
    } else if (key === 'Escape' && !e.shiftKey && !ctrl && !e.altKey) {
      // Only the message box among fields: Esc there means nothing else.
      if (overlayOpen() || (typing && typing.id !== 'composer')) return;
      const stop = document.querySelector('[aria-label="Stop the running turn"]');
      if (!stop) return;
      act = () => stop.click();
    } else if (e.altKey && !ctrl && !e.shiftKey && (key === 'ArrowUp' || key === 'ArrowDown')) {
      if (typing || overlayOpen()) return;
      act = () => moveSession(key === 'ArrowUp' ? -1 : 1);
    } else if (key === '?' && !ctrl && !e.altKey) {
      if (typing || overlayOpen()) return;
      act = () => byId('shortcuts-button')?.click();
    }
    if (!act) return;
    e.preventDefault();
    act();
  }, true);
})();
