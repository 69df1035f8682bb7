// Dialogs opened from state (rx.dialog with `open=`, no Trigger) leave focus on <body> when
// they close: Radix returns it to a trigger they do not have. When a dialog goes away and
// nothing has focus, focus goes back to the control that had it before the dialog opened.
(() => {
  if (window.__dialogFocusReturn) return; // the script tag may be added again on navigation
  window.__dialogFocusReturn = true;
  const DIALOG = '[role="dialog"], [role="alertdialog"]';
  let lastOutside = null;
  let open = false;
  document.addEventListener("focusin", (event) => {
    if (event.target instanceof Element && !event.target.closest(DIALOG)) {
      lastOutside = event.target;
    }
  });
  new MutationObserver(() => {
    const now = document.querySelector(DIALOG) !== null;
    const unfocused = !document.activeElement || document.activeElement === document.body;
    if (open && !now && unfocused && lastOutside && lastOutside.isConnected) {
      lastOutside.focus();
    }
    open = now;
  }).observe(document.body, { childList: true, subtree: true });
})();
