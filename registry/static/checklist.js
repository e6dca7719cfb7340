// Long checkbox lists: the filter box hides the options (and empty group headings) that do not match.
document.querySelectorAll("fieldset.checklist").forEach((set) => {
  const filter = set.querySelector(".checklist-filter");
  if (!filter) return;
  filter.addEventListener("input", () => {
    const words = filter.value.trim().toLowerCase();
    let heading = null;
    let shown = 0;
    set.querySelectorAll(".checklist-box > *").forEach((node) => {
      if (node.classList.contains("checklist-group")) {
        if (heading) heading.hidden = shown === 0;
        heading = node;
        shown = 0;
        return;
      }
      const match = !words || node.textContent.toLowerCase().includes(words) || node.querySelector("input").checked;
      node.hidden = !match;
      if (match) shown += 1;
    });
    if (heading) heading.hidden = shown === 0;
  });
});
