() => {
  // Delegated handlers for markup the server renders as escaped HTML (no inline script anywhere).
  if (window.__kbHandlers) return;
  window.__kbHandlers = true;

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    // Plain http on a LAN address has no clipboard API: fall back to a hidden textarea.
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } finally { area.remove(); }
    return Promise.resolve();
  }

  document.addEventListener("click", (event) => {
    const copy = event.target.closest(".kb-copy");
    if (copy) {
      event.preventDefault();
      event.stopPropagation();
      copyText(copy.dataset.copy || "").then(() => {
        const label = copy.textContent;
        copy.textContent = "已复制 Copied ✓";
        copy.classList.add("kb-copied");
        setTimeout(() => { copy.textContent = label; copy.classList.remove("kb-copied"); }, 1500);
      });
      return;
    }
    const marker = event.target.closest(".kb-marker");
    if (marker) {
      const card = document.getElementById("kb-src-" + marker.textContent.replace(/\D/g, ""));
      if (card) {
        card.open = true;
        card.scrollIntoView({ behavior: "smooth", block: "nearest" });
        card.classList.add("kb-flash");
        setTimeout(() => card.classList.remove("kb-flash"), 1200);
      }
    }
  }, true);
}
