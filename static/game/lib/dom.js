// Building the pages' DOM: one element builder for HTML and SVG, and one keyed list update.
// Text always goes in as text (a text node or textContent), never through innerHTML, so a name
// or a chat line can never become markup. Inline style attributes are refused by the
// Content-Security-Policy, so `style` is set through the CSSOM.

const SVG_NS = "http://www.w3.org/2000/svg";

function build(el, props, kids) {
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.setAttribute("class", v);
    else if (k === "text") el.textContent = v;
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "style") el.style.cssText = String(v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : String(kid));
  }
  return el;
}

/** An HTML element: h("p", { class: "hint", text: "..." }, child, "text", [more]). Props: class,
 * text, dataset, style, on<event> handlers; true sets an empty attribute; null/false skip it.
 * Children: nodes or strings (as text), nested arrays flattened, null/false skipped. */
export function h(tag, props = {}, ...kids) {
  return build(document.createElement(tag), props, kids);
}

/** An SVG element, built the same way. */
export function svg(tag, props = {}, ...kids) {
  return build(document.createElementNS(SVG_NS, tag), props, kids);
}

/** A translated sentence with nodes in it: its %(name)s placeholders filled with the nodes or
 * texts of `parts` (arrays spread), the words around them kept as one message. */
export function sentence(text, parts) {
  const out = [];
  let last = 0;
  for (const m of String(text).matchAll(/%\((\w+)\)s/g)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    const v = parts[m[1]];
    out.push(...(Array.isArray(v) ? v : [v ?? m[0]]));
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

/** Replace an element's children only when `sig` (anything JSON can say) changed since the last
 * call: a list the user may be focused in is not rebuilt under them for nothing. */
export function setChildren(el, sig, make) {
  const key = JSON.stringify(sig);
  if (signatures.get(el) === key) return false;
  signatures.set(el, key);
  el.replaceChildren(...[make()].flat(Infinity).filter((n) => n !== null && n !== undefined && n !== false));
  return true;
}

const signatures = new WeakMap(); // element -> the signature it was last built from

/**
 * The keyed list update: make `container`'s children the elements of `items`, in order.
 *
 *   key(item)    the item's identity (a proposal's id, a table's id)
 *   sig(item)    everything the element shows (compared as JSON): an element whose signature
 *                did not change is kept as it is, focus and all
 *   build(item)  a fresh element for the item
 *   find(k)      where an element of this key may already be (default: among the children,
 *                by data-key); it may be in another container (a proposal moving to the history)
 *
 * Elements of keys no longer listed are removed. When an element with the focus in it is rebuilt,
 * the focus moves to the fresh element's control with the same data-action (or its first one).
 */
export function keyedList(container, items, { key, sig, build: make, find = null }) {
  const keys = items.map((it) => String(key(it)));
  const keep = new Set(keys);
  for (const el of [...container.children]) if (!keep.has(el.dataset.key)) el.remove();
  let prev = null;
  items.forEach((it, i) => {
    const k = keys[i];
    const s = JSON.stringify(sig(it));
    let el = find ? find(k) : [...container.children].find((c) => c.dataset.key === k) || null;
    if (!el || signatures.get(el) !== s || el.parentElement !== container) {
      const fresh = make(it);
      fresh.dataset.key = k;
      signatures.set(fresh, s);
      const focused = el && el.contains(document.activeElement) ? document.activeElement.dataset.action || "" : null;
      if (el) el.remove();
      el = fresh;
      if (focused !== null) {
        const again = (focused && el.querySelector(`[data-action="${CSS.escape(focused)}"]`)) || el.querySelector("[data-action]");
        if (again) queueMicrotask(() => again.focus({ preventScroll: true }));
      }
    }
    const want = prev ? prev.nextSibling : container.firstChild;
    if (want !== el) container.insertBefore(el, want);
    prev = el;
  });
}
