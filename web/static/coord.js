// coord.js: small helpers of the coordinator's pages. "Copy link" buttons (data-copy = the
// id of the input holding the link) copy it to the clipboard and say so; without the
// clipboard API the link is selected for the user to copy.
for (const b of document.querySelectorAll('button[data-copy]')) {
  b.addEventListener('click', async () => {
    const input = document.getElementById(b.dataset.copy);
    if (!input) return;
    input.select();
    try {
      await navigator.clipboard.writeText(input.value);
      b.textContent = 'Copied';
    } catch {
      b.textContent = 'Selected: press Ctrl+C';
    }
  });
}
