// The chat: the table channel and one private channel per other role, unread counts, who reads
// what, and sending a line.

import { fmt, gettext, pgettext, timeText } from "../i18n.js";
import { h, sentence } from "../lib/dom.js";
import { cssKey } from "../lib/roles.js";
import { currentView } from "./frame.js";
import { $, PENDING_TEXT, PHONE, S, act, flash, isOpen, myRole, net, parseTime, roleChip, roleName, store, you } from "./state.js";

// --- chat -------------------------------------------------------------------------------------

export function chatChannels() {
  const me = myRole();
  let mine = you().channels;
  if (!Array.isArray(mine)) mine = me ? S.roleOrder.filter((r) => r !== me).map((r) => [me, r].sort().join("+")) : [];
  return ["table", ...mine.filter((c) => typeof c === "string")];
}

export function channelOther(ch) {
  if (ch === "table") return null;
  return ch.split("+").find((r) => r !== myRole()) || ch;
}

/** Does anyone sit in this role at my table? (A private channel to an empty seat reaches nobody yet.) */
export function seatTaken(role) {
  const seat = ((S.st && S.st.table && S.st.table.seats) || []).find((x) => x.role === role);
  return Boolean(seat && (seat.players || []).length);
}

export function channelLabel(ch) {
  return ch === "table" ? pgettext("chat channel", "Table") : roleName(channelOther(ch));
}

export function unread(ch) {
  const mark = (S.readMarks || {})[ch] || 0;
  return (S.chat.get(ch) || []).filter((m) => m.seq > mark && m.role !== myRole()).length;
}

export function chatVisible() {
  if (document.visibilityState !== "visible") return false;
  if (currentView() !== "game" && currentView() !== "ended") return false;
  return !PHONE.matches || S.activeTab === "chat";
}

export function markRead() {
  if (!S.st || !chatVisible()) return;
  const list = S.chat.get(S.activeChannel) || [];
  const last = list.length ? list[list.length - 1].seq : 0;
  if ((S.readMarks[S.activeChannel] || 0) < last) {
    S.readMarks[S.activeChannel] = last;
    store.set("read", S.readMarks);
  }
}

export function chatMessage(m) {
  const mine = m.role === myRole();
  const time = m.at ? new Date(parseTime(m.at)) : null;
  return h(
    "li",
    { class: `msg role-${cssKey(m.role)}${mine ? " is-mine" : ""}`, dataset: { seq: String(m.seq) } },
    h(
      "div",
      { class: "msg-head" },
      roleChip(m.role, { cls: "msg-role" }),
      m.name ? h("span", { class: "msg-name", text: m.name }) : null,
      time && !Number.isNaN(time.getTime())
        ? h("time", { class: "msg-time num", datetime: m.at, text: timeText(time) })
        : null,
    ),
    h("p", { class: "msg-text", text: m.text || "" }),
  );
}

export function renderChat() {
  if (!S.st) return;
  const channels = chatChannels();
  const tabs = $("chat-tabs");
  const logs = $("chat-logs");
  if (tabs.dataset.sig !== channels.join(",") + myRole()) {
    tabs.dataset.sig = channels.join(",") + myRole();
    tabs.replaceChildren(
      ...channels.map((ch) => {
        const other = channelOther(ch);
        return h(
          "button",
          { type: "button", role: "tab", class: "chat-tab", id: `chat-tab-${cssKey(ch)}`, "aria-controls": `chat-log-${cssKey(ch)}`, dataset: { channel: ch } },
          other ? roleChip(other, { cls: "chat-tab-role" }) : h("span", { class: "chat-tab-table", text: pgettext("chat channel", "Table") }),
          // The name is the tab's own text (no aria-label that would differ from what is seen).
          h("span", { class: "chat-unread-box", hidden: true }, h("span", { class: "visually-hidden", text: ", " }), h("span", { class: "chat-unread num" }), h("span", { class: "visually-hidden", text: ` ${pgettext("tab badge", "unread")}` })),
          other ? h("span", { class: "chat-tab-empty", hidden: true }, h("span", { class: "visually-hidden", text: ", " }), pgettext("a private chat's tab", "empty"), h("span", { class: "visually-hidden", text: gettext(": nobody seated yet") })) : null,
        );
      }),
    );
    logs.replaceChildren(
      ...channels.map((ch) =>
        h(
          "div",
          { class: "chat-log-wrap", id: `chat-wrap-${cssKey(ch)}`, role: "tabpanel", "aria-labelledby": `chat-tab-${cssKey(ch)}` },
          h("p", {
            class: "chat-empty",
            text: ch === "table" ? gettext("No messages yet. Everything here is read by the whole table.") : fmt(gettext("No messages yet. Only you, %(role)s and your instructor read this channel."), { role: channelLabel(ch) }),
          }),
          // Not a live region: new lines are spoken by the announcer, once, and never one's own.
          h("ol", { class: "chat-log", id: `chat-log-${cssKey(ch)}`, "aria-label": fmt(gettext("Messages: %(channel)s"), { channel: channelLabel(ch) }) }),
        ),
      ),
    );
  }
  for (const ch of channels) {
    const log = document.getElementById(`chat-log-${cssKey(ch)}`);
    const wrap = document.getElementById(`chat-wrap-${cssKey(ch)}`);
    const list = S.chat.get(ch) || [];
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    const have = new Set([...log.children].map((li) => Number(li.dataset.seq)));
    let added = false;
    for (const m of list) {
      if (have.has(m.seq)) continue;
      const li = chatMessage(m);
      const after = [...log.children].find((x) => Number(x.dataset.seq) > m.seq);
      log.insertBefore(li, after || null);
      added = true;
    }
    wrap.querySelector(".chat-empty").hidden = list.length > 0;
    const active = ch === S.activeChannel;
    wrap.hidden = !active;
    if (added && (atBottom || active)) log.scrollTop = log.scrollHeight;
  }
  markRead();
  let total = 0;
  for (const btn of tabs.children) {
    const ch = btn.dataset.channel;
    const active = ch === S.activeChannel;
    btn.setAttribute("aria-selected", active ? "true" : "false");
    btn.tabIndex = active ? 0 : -1;
    const n = active && chatVisible() ? 0 : unread(ch);
    total += unread(ch);
    btn.querySelector(".chat-unread-box").hidden = n === 0;
    btn.querySelector(".chat-unread").textContent = String(n);
    const nobody = ch !== "table" && !seatTaken(channelOther(ch));
    const empty = btn.querySelector(".chat-tab-empty");
    if (empty) empty.hidden = !nobody;
  }
  const ch = S.activeChannel;
  const scope = $("chat-scope");
  // Honest about who reads what, before anything is written: the instructor reads every channel.
  if (ch === "table") scope.replaceChildren(gettext("Everyone at the table reads this, and your instructor."));
  else {
    const other = channelOther(ch);
    scope.replaceChildren(
      ...sentence(gettext("Private: only you and %(role)s read this, %(instructor)s, who can read every channel."), {
        role: roleChip(other),
        instructor: h("strong", { text: gettext("and your instructor") }),
      }),
    );
    if (!seatTaken(other)) {
      scope.append(h("span", { class: "chat-nobody" }, ` ${fmt(gettext("Nobody plays %(role)s at your table yet: your messages wait here for whoever takes the seat."), { role: roleName(other) })}`));
    }
  }
  for (const btn of tabs.children) {
    const other = channelOther(btn.dataset.channel);
    btn.classList.toggle("is-empty-seat", Boolean(other) && !seatTaken(other));
  }
  $("chat-input").placeholder = ch === "table" ? gettext("Write to the whole table") : fmt(gettext("Write privately to %(role)s"), { role: channelLabel(ch) });
  $("chat-input-label").textContent = ch === "table" ? gettext("Message to the whole table") : fmt(gettext("Private message to %(role)s"), { role: channelLabel(ch) });
  const tabBadge = $("tab-chat-badge");
  const phoneUnread = S.activeTab === "chat" ? total - unread(ch) : total;
  tabBadge.hidden = !(PHONE.matches && phoneUnread > 0);
  tabBadge.querySelector(".num").textContent = String(phoneUnread);
}

export function selectChannel(ch, focus = false) {
  S.activeChannel = ch;
  store.set("channel", ch);
  renderChat();
  const log = document.getElementById(`chat-log-${cssKey(ch)}`);
  if (log) log.scrollTop = log.scrollHeight;
  if (focus) document.getElementById(`chat-tab-${cssKey(ch)}`).focus();
}

$("chat-tabs").addEventListener("click", (e) => {
  const btn = e.target.closest("[data-channel]");
  if (btn) selectChannel(btn.dataset.channel);
});
$("chat-tabs").addEventListener("keydown", (e) => arrowTabs(e, $("chat-tabs"), (btn) => selectChannel(btn.dataset.channel, true)));

export function arrowTabs(e, list, choose) {
  const tabs = [...list.querySelectorAll('[role="tab"]')].filter((t) => !t.hidden);
  const i = tabs.indexOf(document.activeElement);
  if (i < 0) return;
  let j = null;
  if (e.key === "ArrowRight" || e.key === "ArrowDown") j = (i + 1) % tabs.length;
  else if (e.key === "ArrowLeft" || e.key === "ArrowUp") j = (i - 1 + tabs.length) % tabs.length;
  else if (e.key === "Home") j = 0;
  else if (e.key === "End") j = tabs.length - 1;
  if (j === null) return;
  e.preventDefault();
  choose(tabs[j]);
}

export function sendChat() {
  const input = $("chat-input");
  const text = input.value.trim();
  if (!text) return;
  const channel = S.activeChannel;
  input.value = "";
  store.set("draft", "");
  flash($("chat-status"), isOpen() ? "" : PENDING_TEXT);
  act(
    { type: "chat.send", channel, text },
    {
      onAck: () => {
        // The sender hears this once; their own line is never read out again.
        if (!net.sock.outbox.size) flash($("chat-status"), channel === "table" ? gettext("Sent to the table.") : fmt(gettext("Sent privately to %(role)s."), { role: channelLabel(channel) }));
      },
      onError: (m) => {
        if (!input.value) input.value = text;
        flash($("chat-status"), m.message || gettext("The message was not sent."), true);
      },
      onPending: () => flash($("chat-status"), PENDING_TEXT),
    },
  );
}
$("chat-form").addEventListener("submit", (e) => {
  e.preventDefault();
  sendChat();
});
$("chat-input").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    sendChat();
  }
});
