// Top-bar menus: one open at a time, closed by a click elsewhere or Escape.
(function () {
  const menus = Array.from(document.querySelectorAll(".topbar details.menu"));
  menus.forEach((menu) => menu.addEventListener("toggle", () => {
    if (menu.open) menus.forEach((other) => { if (other !== menu) other.open = false; });
  }));
  document.addEventListener("click", (event) => {
    menus.forEach((menu) => { if (!menu.contains(event.target)) menu.open = false; });
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    menus.forEach((menu) => {
      if (menu.open) { menu.open = false; menu.querySelector("summary").focus(); }
    });
  });
})();

// A table wider than the window scrolls inside its box: keyboard users reach it with Tab (only when it scrolls).
document.querySelectorAll(".table-scroll").forEach((box) => {
  if (box.scrollWidth <= box.clientWidth) return;
  box.tabIndex = 0;
  box.setAttribute("role", "region");
  const heading = box.previousElementSibling && /^H[1-6]$/.test(box.previousElementSibling.tagName)
    ? box.previousElementSibling.textContent.trim() : document.title;
  box.setAttribute("aria-label", heading + " (scrolls sideways)");
});
