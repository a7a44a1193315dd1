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
        const fold = card.closest("details.kb-sources-fold");
        if (fold) fold.open = true;
        card.open = true;
        card.scrollIntoView({ behavior: "smooth", block: "nearest" });
        card.classList.add("kb-flash");
        setTimeout(() => card.classList.remove("kb-flash"), 1200);
      }
    }
  }, true);

  // On a phone the answer comes first: each new sources fold starts closed (one tap opens it).
  const phone = window.matchMedia("(max-width: 640px)");
  new MutationObserver(() => {
    document.querySelectorAll("details.kb-sources-fold:not([data-kb-seen])").forEach((fold) => {
      fold.dataset.kbSeen = "1";
      if (phone.matches) fold.open = false;
    });
  }).observe(document.body, { childList: true, subtree: true });

  // A shared link /?q=… (WeChat groups) fills the question box and asks, as if typed. Gradio runs
  // this script once the page is wired up; the box may still be on its way.
  const shared = (new URLSearchParams(window.location.search).get("q") || "").trim();
  if (shared) {
    const started = Date.now();
    const askShared = () => {
      const box = document.querySelector("#kb-question textarea");
      const send = document.querySelector("#kb-send");
      if (!box || !send) {
        if (Date.now() - started < 30000) setTimeout(askShared, 100);
        return;
      }
      box.value = shared;
      box.dispatchEvent(new Event("input", { bubbles: true }));
      setTimeout(() => send.click(), 50);
    };
    askShared();
  }
}
