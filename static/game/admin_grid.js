// The grid's live "problems to fix": the draft is checked by the server (the engine's own
// validator) a moment after each change, without saving anything.
const form = document.getElementById("grid-form");
const errorsList = document.getElementById("grid-errors");
const problemsList = document.getElementById("grid-problems");
let timer = null;
let seq = 0;

function fill(list, items, emptyText) {
  list.replaceChildren();
  if (!items.length && emptyText) {
    const li = document.createElement("li");
    li.className = "ok";
    li.textContent = emptyText;
    list.append(li);
    return;
  }
  for (const text of items) {
    const li = document.createElement("li");
    li.textContent = text;
    list.append(li);
  }
}

async function check() {
  const mine = ++seq;
  const body = new FormData(form);
  body.set("check", "1");
  try {
    const resp = await fetch(form.dataset.checkUrl, { method: "POST", body, credentials: "same-origin" });
    if (!resp.ok || mine !== seq) return;
    const data = await resp.json();
    fill(errorsList, data.errors || [], "");
    fill(problemsList, data.problems || [], "None: the scenario can be played.");
  } catch {
    // offline: the next change tries again; Save still checks on the server
  }
}

form.addEventListener("input", () => {
  clearTimeout(timer);
  timer = setTimeout(check, 400);
});
