// The editor's extras: drag steps within a stage (like stages: the list order goes into
// the form's hidden "order" field, the server validates and saves it), and moving the
// emotion slider unticks "no emotion".
document.addEventListener("DOMContentLoaded", () => {
  for (const list of document.querySelectorAll("ol.step-order")) {
    const form = list.closest("form");
    let dragged = null;
    list.addEventListener("dragstart", (e) => { dragged = e.target.closest("li"); dragged.classList.add("dragging"); });
    list.addEventListener("dragend", () => { if (dragged) dragged.classList.remove("dragging"); dragged = null; sync(); });
    list.addEventListener("dragover", (e) => {
      e.preventDefault();
      const over = e.target.closest("li");
      if (!dragged || !over || over === dragged || over.parentNode !== list) return;
      const box = over.getBoundingClientRect();
      list.insertBefore(dragged, e.clientY > box.top + box.height / 2 ? over.nextSibling : over);
    });
    function sync() {
      form.elements["order"].value = Array.from(list.querySelectorAll("li")).map((li) => li.dataset.id).join(",");
    }
  }
  for (const slider of document.querySelectorAll('form.step input[name="emotion"]')) {
    slider.addEventListener("input", () => {
      const none = slider.form.elements["emotion_none"];
      if (none) none.checked = false;
    });
  }
});
