// Drag-and-drop reordering of stages with native HTML5 drag events: the list order is
// written into the form's hidden "order" field; the server validates and saves it.
document.addEventListener("DOMContentLoaded", () => {
  const list = document.getElementById("stage-order");
  if (!list) return;
  const form = document.getElementById("reorder-form");
  let dragged = null;
  list.addEventListener("dragstart", (e) => { dragged = e.target.closest("li"); dragged.classList.add("dragging"); });
  list.addEventListener("dragend", () => { if (dragged) dragged.classList.remove("dragging"); dragged = null; sync(); });
  list.addEventListener("dragover", (e) => {
    e.preventDefault();
    const over = e.target.closest("li");
    if (!dragged || !over || over === dragged) return;
    const box = over.getBoundingClientRect();
    list.insertBefore(dragged, e.clientY > box.top + box.height / 2 ? over.nextSibling : over);
  });
  function sync() {
    form.elements["order"].value = Array.from(list.querySelectorAll("li")).map((li) => li.dataset.id).join(",");
  }
});
