// learner.js: the Print buttons of the printable learner pages (no inline handlers under the CSP).
for (const b of document.querySelectorAll('[data-print]')) {
  b.addEventListener('click', () => window.print());
}
