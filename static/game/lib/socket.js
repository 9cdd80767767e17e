// The game's socket, shared by the player page, the dashboard and the projector: one reconnect
// policy, one watchdog, and the bookkeeping the wire contract asks of a client (docs/protocol.md).
//
// - Reconnect policy: after a lost socket, wait backoff(attempt): 500 ms doubling up to 10 s,
//   with "equal jitter" (half fixed, half random), so a class of 200 does not come back in step.
//   A socket the server drained for a restart (close code 1012) comes back at a random moment
//   within 0.8 s, on whichever worker takes it. The attempt count resets once a socket opens.
//   The page's close handler may refuse the backoff's retries for close codes that mean "not
//   you" (4403, 4404, 4409); `stop()` closes for good until `start()`.
// - Watchdog: the server sends `sync` every SYNC_SECONDS (20 s); a socket that has said nothing
//   for WATCHDOG_MS is dead even if the browser has not noticed (a sleeping laptop, a Wi-Fi that
//   changed), so it is closed and replaced.
// - Actions (`act`): every message that changes something carries a `ref` and waits in the
//   outbox until the server acknowledges or refuses it. An `unavailable` or `rate_limited` answer
//   is not a refusal: the action is sent again, same ref (the server applies it once), with
//   backoff; so is one that got no answer on an open socket for 20 s, and every waiting action
//   once a socket opens again. Later actions wait behind earlier ones, so order is kept.
// - Resume: on a reconnect, `resume()` gives the last seq the page applied, and the socket asks
//   for what it missed (`hello` with `since`).

export const WATCHDOG_MS = 75000;
export const RETRYABLE = new Set(["unavailable", "rate_limited"]);
const UNANSWERED_MS = 20000;

/** The reconnect delay before attempt n (1, 2, ...): 500 ms doubling to 10 s, equal jitter. */
export function backoff(attempt, random = Math.random) {
  const base = Math.min(10000, 500 * 2 ** (Math.max(1, attempt) - 1));
  return Math.round(base / 2 + (random() * base) / 2);
}

/** The resend delay of an action after its nth outage answer: 1 s doubling to 5 s, or the
 * server's retry_after hint if longer, +-20% jitter. */
export function resendDelay(round, hintSeconds = 0, random = Math.random) {
  const base = Math.min(5000, 1000 * 2 ** (Math.max(1, round) - 1));
  return Math.max(base, (Number(hintSeconds) || 0) * 1000) * (0.8 + random() * 0.4);
}

/**
 * Open a socket to `path` (e.g. "/ws/play/ABC123/") and keep it open.
 *
 * options:
 *   onMessage(m)     every parsed frame that is not the answer to an action in the outbox
 *   onStatus(status, info)  "connecting" | "open" | "reconnecting" (drained, back at once) |
 *                    "offline" (waiting info.retryAt to try again)
 *   onClose(code)    return false: no retry by the backoff (the page says why); reconnectNow()
 *                    (the network is back, the page is shown again) still tries
 *   onOpen(again)    after the socket opened (again: not the first time), before the outbox is sent
 *   onOutbox()       the outbox changed (an action waits, or was answered)
 *   resume()         the last seq applied, for `hello` with `since` on a reconnect (or null)
 */
export function gameSocket(path, { onMessage = () => {}, onStatus = () => {}, onClose = () => true, onOpen = () => {}, onOutbox = () => {}, resume = null } = {}) {
  let ws = null;
  let attempt = 0;
  let retryTimer = null;
  let everOpened = false;
  let stopped = false;
  let lastHeard = Date.now();
  const outbox = new Map(); // ref -> {msg, waiting, sentAt, ...handlers}
  let resendTimer = null;
  let resendRound = 0;
  let refCounter = 0;

  const isOpen = () => Boolean(ws && ws.readyState === WebSocket.OPEN);

  function send(msg) {
    if (!isOpen()) return false;
    ws.send(JSON.stringify(msg));
    return true;
  }

  function connect() {
    if (stopped) return;
    clearTimeout(retryTimer);
    retryTimer = null;
    if (ws && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)) return;
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    let sock;
    try {
      sock = new WebSocket(`${proto}//${location.host}${path}`);
    } catch {
      retryLater();
      return;
    }
    ws = sock;
    onStatus(everOpened ? "reconnecting" : "connecting", {});
    sock.addEventListener("open", () => {
      if (ws !== sock) return;
      attempt = 0;
      lastHeard = Date.now();
      const again = everOpened;
      everOpened = true;
      onStatus("open", {});
      const since = resume ? resume() : null;
      if (again && since) send({ type: "hello", since });
      onOpen(again);
      flush();
    });
    sock.addEventListener("message", (e) => {
      if (ws !== sock) return;
      lastHeard = Date.now();
      let m;
      try {
        m = JSON.parse(e.data);
      } catch {
        return;
      }
      if ((m.type === "ack" || m.type === "error") && m.ref && outbox.has(m.ref)) answered(m);
      else onMessage(m);
    });
    sock.addEventListener("close", (e) => {
      if (ws !== sock) return;
      ws = null;
      onOutbox();
      // The page's say on this close code: false means no retry by the backoff (a reconnect
      // asked for, the network back, the page shown again, still tries; stop() prevents those).
      if (onClose(e.code) === false) return;
      if (e.code === 1012) {
        // The server is restarting and drained this socket: another worker takes it at once
        // (a random moment within a second, so that a whole class does not arrive together).
        attempt = 0;
        onStatus("reconnecting", {});
        retryTimer = setTimeout(connect, Math.random() * 800);
        return;
      }
      retryLater();
    });
  }

  function retryLater() {
    if (stopped || retryTimer) return;
    attempt += 1;
    const delay = backoff(attempt);
    retryTimer = setTimeout(connect, delay);
    onStatus("offline", { retryAt: Date.now() + delay });
  }

  /** Try at once (the network is back, the page is visible again, the student asked). */
  function reconnectNow() {
    if (stopped || isOpen()) return;
    attempt = 0;
    clearTimeout(retryTimer);
    retryTimer = null;
    connect();
  }

  /** Close and stay closed (removed, not seated); `start()` opens again. */
  function stop() {
    stopped = true;
    clearTimeout(retryTimer);
    retryTimer = null;
    if (ws) {
      const w = ws;
      ws = null;
      try {
        w.close();
      } catch {
        /* already closed */
      }
    }
  }

  function start() {
    stopped = false;
    reconnectNow();
  }

  // --- actions ----------------------------------------------------------------------------

  /** Send an action with a fresh ref; it waits in the outbox until answered. handlers: onAck(m),
   * onError(m) (a refusal), onPending(m) (it waits for an outage to pass); any other fields are
   * kept on the item (a label, buttons). Returns the ref. */
  function act(msg, handlers = {}, prefix = "a") {
    refCounter += 1;
    const ref = `${prefix}-${Date.now().toString(36)}-${refCounter}-${Math.random().toString(36).slice(2, 7)}`.slice(0, 64);
    const item = { ...handlers, msg: { ...msg, ref }, waiting: false, sentAt: 0 };
    outbox.set(ref, item);
    if (resendTimer) {
      item.waiting = true; // earlier actions wait for their resend: keep the order
      if (item.onPending) item.onPending();
    } else sendItem(item);
    onOutbox();
    return ref;
  }

  function sendItem(item) {
    if (send(item.msg)) item.sentAt = Date.now();
  }

  function flush() {
    clearTimeout(resendTimer);
    resendTimer = null;
    if (!isOpen()) return; // the socket's "open" sends them
    for (const item of outbox.values()) sendItem(item);
  }

  function answered(m) {
    const item = outbox.get(m.ref);
    if (m.type === "error" && RETRYABLE.has(m.code)) {
      // Not a refusal: the database or channel layer is out, or the server is restarting.
      item.waiting = true;
      if (item.onPending) item.onPending(m);
      if (!resendTimer) {
        resendRound += 1;
        resendTimer = setTimeout(flush, resendDelay(resendRound, m.retry_after));
      }
      onOutbox();
      return;
    }
    outbox.delete(m.ref);
    if (m.type === "ack") {
      resendRound = 0;
      if (item.onAck) item.onAck(m);
    } else if (item.onError) item.onError(m);
    onOutbox();
  }

  // An action sent on an open socket that got no answer for a long while is sent again; a socket
  // that went silent (no sync for a long while) is dead even if nobody said so.
  setInterval(() => {
    if (!isOpen()) return;
    const now = Date.now();
    if (now - lastHeard > WATCHDOG_MS) {
      // Not waiting for the dead socket's close (its handshake may never finish): replace it.
      const dead = ws;
      ws = null;
      try {
        dead.close();
      } catch {
        /* already closed */
      }
      onOutbox();
      connect();
      return;
    }
    if (resendTimer) return;
    for (const item of outbox.values()) if (item.sentAt && now - item.sentAt > UNANSWERED_MS) sendItem(item);
  }, 5000);

  window.addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") reconnectNow();
  });

  return {
    connect,
    send,
    act,
    isOpen,
    reconnectNow,
    stop,
    start,
    outbox,
    /** An action waits for an outage to pass, or the socket is down with actions unsent. */
    waiting: () => [...outbox.values()].some((i) => i.waiting) || (outbox.size > 0 && !isOpen()),
    get everOpened() {
      return everOpened;
    },
    get stopped() {
      return stopped;
    },
  };
}
