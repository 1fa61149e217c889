// The phone menu (templates/base.html): without JavaScript a checkbox and its label open it; here the label becomes
// a real button that says whether the menu is open (aria-expanded), and Escape closes it.
document.addEventListener("DOMContentLoaded", () => {
  const header = document.querySelector(".site-header");
  const toggle = document.getElementById("menu-toggle");
  const label = header && header.querySelector("label.menu-btn");
  if (!toggle || !label) return;
  const button = document.createElement("button");
  button.type = "button";
  button.className = label.className;
  button.innerHTML = label.innerHTML;
  button.setAttribute("aria-controls", "site-nav");
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-label", toggle.getAttribute("aria-label"));
  label.replaceWith(button);
  toggle.remove();
  const set = (open) => {
    header.classList.toggle("nav-open", open);
    button.setAttribute("aria-expanded", String(open));
  };
  button.addEventListener("click", () => set(!header.classList.contains("nav-open")));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && header.classList.contains("nav-open")) {
      set(false);
      button.focus();
    }
  });
});
