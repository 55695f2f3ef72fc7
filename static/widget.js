/* Switchboard live-chat widget. Paste onto a website:
   <script src="https://switchboard.example/widget.js" data-channel="ID" async></script>
   No dependencies. Everything lives in a shadow root (styles via a constructable stylesheet, so
   the host page's CSS and our strict CSP both leave it alone). Visitor content is only ever set
   with textContent. The visitor token stays in this site's localStorage and travels in an
   Authorization header, never a cookie or URL. */
(function () {
  'use strict';
  var me = document.currentScript;
  if (!me || !window.fetch) return;
  var CH = me.getAttribute('data-channel');
  var BASE = me.src.replace(/\/widget\.js(\?.*)?$/, '');
  var API = BASE + '/livechat/' + encodeURIComponent(CH);
  var KEY = 'swb-livechat:' + BASE + ':' + CH;
  // The texts come with the config, in the visitor's language: the first of their browser's
  // languages (Accept-Language) the server has, else the channel's (docs/i18n.md).
  var T = {}, labelled = [];
  function say(el, key, how) { labelled.push([el, key, how]); return el; }
  function texts() {
    labelled.forEach(function (x) {
      var v = T[x[1]] || '';
      if (x[2] === 'label') { x[0].setAttribute('aria-label', v); x[0].title = v; } else if (x[2] === 'placeholder') x[0].placeholder = v; else x[0].textContent = v;
    });
  }
  var CSS = ':host{all:initial}*{box-sizing:border-box;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}' +
    '.bub{position:fixed;right:20px;bottom:20px;width:60px;height:60px;border-radius:50%;border:0;background:var(--a);color:#fff;cursor:pointer;box-shadow:0 6px 20px rgba(0,0,0,.25);display:flex;align-items:center;justify-content:center;z-index:2147483000;transition:transform .15s}' +
    '.bub:hover{transform:scale(1.06)}.bub svg{width:28px;height:28px;fill:currentColor}' +
    '.badge{position:absolute;top:-2px;right:-2px;min-width:20px;height:20px;border-radius:10px;background:#e5484d;color:#fff;font-size:12px;line-height:20px;text-align:center;padding:0 5px}' +
    '.panel{position:fixed;right:20px;bottom:92px;width:370px;height:560px;max-height:calc(100vh - 112px);background:#fff;border-radius:16px;box-shadow:0 12px 40px rgba(0,0,0,.22);display:flex;flex-direction:column;overflow:hidden;z-index:2147483000;color:#1c2430;font-size:14px;line-height:1.45}' +
    '[hidden]{display:none!important}' +
    '.head{background:var(--a);background-image:linear-gradient(135deg,rgba(255,255,255,.18),rgba(0,0,0,.08));color:#fff;padding:16px 18px;display:flex;align-items:flex-start;gap:10px}' +
    '.hw{flex:1}.head h2{margin:0;font-size:17px;font-weight:600}.st{font-size:12px;opacity:.92;margin-top:2px;display:flex;align-items:center;gap:6px}' +
    '.dot{width:8px;height:8px;border-radius:50%;background:#9aa4b2}.on .dot{background:#3ddc84}' +
    '.x{background:none;border:0;color:#fff;font-size:22px;line-height:1;cursor:pointer;padding:0 2px;opacity:.85}.x:hover{opacity:1}' +
    '.body{flex:1;overflow-y:auto;padding:16px 14px 8px;background:#f6f7f9}' +
    '.hrs{background:#fff7e0;border-radius:12px;padding:8px 12px;margin:0 0 12px;font-size:13px}' +
    '.greet{background:#fff;border-radius:12px;padding:10px 12px;margin:0 0 12px;box-shadow:0 1px 2px rgba(0,0,0,.06)}' +
    '.m{display:flex;flex-direction:column;margin:6px 0;max-width:80%}.m.me{margin-left:auto;align-items:flex-end}' +
    '.who{font-size:11px;color:#5b6573;margin:0 4px 2px}' +
    '.t{padding:8px 12px;border-radius:16px;white-space:pre-wrap;word-wrap:break-word;overflow-wrap:anywhere;background:#fff;box-shadow:0 1px 2px rgba(0,0,0,.06)}' +
    '.me .t{background:var(--a);color:#fff;border-bottom-right-radius:4px}.ag .t{border-bottom-left-radius:4px}' +
    '.pending .t{opacity:.6}.failed .t{background:#fde8e8;color:#8a1c1c;cursor:pointer}' +
    '.t img{display:block;max-width:100%;border-radius:10px;margin-top:4px}' +
    '.meta{font-size:11px;color:#5b6573;margin:2px 4px 0}' +
    '.sv{display:flex;gap:6px;margin:6px 0 0}.svb{min-width:40px;min-height:40px;border:1px solid var(--a);background:#fff;color:#1f2933;border-radius:10px;font-size:15px;cursor:pointer}.svb:hover,.svb:focus-visible{background:var(--a);color:#fff;outline:2px solid #1f2933;outline-offset:1px}.svb:disabled{opacity:.6;cursor:default}' +
    '.typing,.note{font-size:12px;color:#5b6573;margin:6px 4px;font-style:italic}' +
    '.err{background:#fdecec;color:#8a1c1c;font-size:13px;padding:8px 14px}' +
    'form{display:flex;flex-direction:column;gap:10px;padding:14px;background:#fff;border-top:1px solid #eceef1}' +
    'form p{margin:0;color:#4a5564}label{display:flex;flex-direction:column;gap:4px;font-size:12px;color:#4a5564}' +
    'input,textarea{font:inherit;font-size:14px;border:1px solid #d5dae1;border-radius:10px;padding:9px 11px;outline:none;color:#1c2430;background:#fff;width:100%}' +
    'input:focus,textarea:focus{border-color:var(--a);box-shadow:0 0 0 3px rgba(47,111,237,.15)}' +
    '.go{background:var(--a);color:#fff;border:0;border-radius:10px;padding:10px;font:inherit;font-weight:600;cursor:pointer}' +
    '.comp{display:flex;align-items:flex-end;gap:6px;padding:10px;border-top:1px solid #eceef1;background:#fff;position:relative}' +
    '.comp textarea{resize:none;height:40px;max-height:120px;border-radius:20px;padding:9px 14px}' +
    '.ib{background:none;border:0;width:36px;height:40px;cursor:pointer;color:#6b7684;font-size:20px;flex:none;display:flex;align-items:center;justify-content:center;border-radius:50%}' +
    '.ib:hover{color:var(--a)}.ib svg{width:22px;height:22px;fill:currentColor}.snd{color:var(--a)}' +
    '.emo{position:absolute;bottom:58px;left:10px;background:#fff;border-radius:12px;box-shadow:0 6px 24px rgba(0,0,0,.18);padding:8px;display:grid;grid-template-columns:repeat(8,32px);gap:2px}' +
    '.emo button{border:0;background:none;font-size:20px;width:32px;height:32px;cursor:pointer;border-radius:6px}.emo button:hover{background:#f0f2f5}' +
    // A phone: the panel fills the screen and the bubble steps aside while it is open (it sat
    // on the panel's Start / Send buttons); the header's close button brings it back.
    '@media (max-width:480px){.panel{right:0;bottom:0;width:100vw;height:100%;height:100dvh;max-height:100%;border-radius:0}' +
    '.panel:not([hidden])~.bub{display:none}.x{min-width:44px;min-height:44px;margin:-10px -8px -10px 0}.ib{width:44px;height:44px}.go{min-height:44px}input{min-height:44px;font-size:16px}.comp textarea{height:44px;font-size:16px}}';
  var ICON = 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z';
  var CLIP = 'M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5H9V15.5a3 3 0 0 0 6 0V5a4.5 4.5 0 0 0-9 0v11.5a6 6 0 0 0 12 0v-10z';
  var SMILE = 'M8.5 8a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm7 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zM12 16c-1.48 0-2.75-.81-3.45-2H6.88c.8 2.05 2.79 3.5 5.12 3.5s4.32-1.45 5.12-3.5h-1.67c-.7 1.19-1.97 2-3.45 2zm0-14C6.47 2 2 6.48 2 12s4.47 10 10 10 10-4.48 10-10S17.52 2 12 2zm0 18c-4.42 0-8-3.58-8-8s3.58-8 8-8 8 3.58 8 8-3.58 8-8 8z';
  var SEND = 'M3 20.5 21 12 3 3.5v6.6L15 12 3 13.9z';
  var EMOJI = '😀 😂 😊 😍 🙂 😉 😢 😮 🤔 👍 👌 🙏 👋 🎉 ❤️ ✅'.split(' ');

  var cfg = null, token = null, lastId = 0, seenUpTo = 0, unread = 0, stream = null, typedAt = 0, typingTimer = 0;
  try { token = localStorage.getItem(KEY); } catch (_e) { /* storage blocked: no returning visitor */ }

  function h(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function svg(d) {
    var s = document.createElementNS('http://www.w3.org/2000/svg', 'svg'), p = document.createElementNS(s.namespaceURI, 'path');
    s.setAttribute('viewBox', '0 0 24 24'); p.setAttribute('d', d); s.appendChild(p);
    return s;
  }
  function btn(cls, label, child) {
    var b = h('button', cls); b.type = 'button'; b.setAttribute('aria-label', label); b.title = label;
    if (child) b.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    return b;
  }
  function field(form, key, name, type, req) {
    var l = h('label'), i = h(type === 'area' ? 'textarea' : 'input');
    l.appendChild(say(h('span'), key));
    i.name = name; if (type !== 'area') i.type = type; else i.rows = 4;
    i.required = !!req; l.appendChild(i); form.appendChild(l);
    return i;
  }

  // ---- DOM -----------------------------------------------------------------------------
  var host = h('div'); host.id = 'swb-livechat';
  var root = host.attachShadow({ mode: 'open' });
  sheet(CSS);
  var accent = sheet(':host{--a:#2f6fed}');
  function sheet(text) {
    if (root.adoptedStyleSheets !== undefined && window.CSSStyleSheet) {
      try { var s = new CSSStyleSheet(); s.replaceSync(text); root.adoptedStyleSheets = root.adoptedStyleSheets.concat([s]); return s; } catch (_e) { /* fall through */ }
    }
    var st = h('style', null, text); root.appendChild(st);
    return { replaceSync: function (t) { st.textContent = t; } };
  }
  var bubble = say(btn('bub', '', svg(ICON)), 'open', 'label'), badge = h('span', 'badge'); badge.hidden = true; bubble.appendChild(badge);
  var panel = h('div', 'panel'); panel.hidden = true; panel.setAttribute('role', 'dialog');
  var head = h('div', 'head'), hw = h('div'), title = h('h2', null, 'Chat'), status = h('div', 'st'), dot = h('span', 'dot'), stText = h('span');
  status.appendChild(dot); status.appendChild(stText); hw.className = 'hw'; hw.appendChild(title); hw.appendChild(status);
  var closeB = say(btn('x', '', '×'), 'close', 'label'); head.appendChild(hw); head.appendChild(closeB);
  var err = h('div', 'err'); err.hidden = true;
  var body = h('div', 'body'), greet = h('p', 'greet'), hrs = h('p', 'hrs'), list = h('div', 'list'), typing = h('div', 'typing'), note = h('div', 'note');
  typing.hidden = true; note.hidden = true; greet.hidden = true; hrs.hidden = true; hrs.setAttribute('role', 'status');
  body.appendChild(hrs); body.appendChild(greet); body.appendChild(list); body.appendChild(note); body.appendChild(typing);
  var pre = h('form', 'pre'), preName = field(pre, 'name', 'name', 'text', true), preMail = field(pre, 'email', 'email', 'email', true), preGo = say(h('button', 'go'), 'start');
  pre.appendChild(preGo); pre.hidden = true;
  var off = h('form', 'off'), offText = h('p'); off.appendChild(offText);
  var offName = field(off, 'name', 'name', 'text', true), offMail = field(off, 'email', 'email', 'email', true), offMsg = field(off, 'msg', 'text', 'area', true), offGo = say(h('button', 'go'), 'leave');
  off.appendChild(offGo); off.hidden = true;
  var comp = h('div', 'comp'), emoB = say(btn('ib', '', svg(SMILE)), 'emoji', 'label'), fileB = say(btn('ib', '', svg(CLIP)), 'image', 'label'), file = h('input'), input = say(say(h('textarea'), 'write', 'placeholder'), 'msg', 'label'), sendB = say(btn('ib snd', '', svg(SEND)), 'send', 'label');
  file.type = 'file'; file.accept = 'image/*'; file.hidden = true; input.rows = 1;
  var emo = h('div', 'emo'); emo.hidden = true;
  EMOJI.forEach(function (e) { var b = btn('', e, e); b.onclick = function () { insert(e); }; emo.appendChild(b); });
  [emo, emoB, fileB, file, input, sendB].forEach(function (e) { comp.appendChild(e); });
  comp.hidden = true;
  [head, err, body, pre, off, comp].forEach(function (e) { panel.appendChild(e); });
  root.appendChild(panel); root.appendChild(bubble);

  // ---- HTTP ----------------------------------------------------------------------------
  function call(method, path, data, headers) {
    var o = { method: method, credentials: 'omit', headers: headers || {} };
    if (token) o.headers.Authorization = 'Bearer ' + token;
    if (data !== undefined && !(data instanceof Blob)) { o.headers['Content-Type'] = 'application/json'; o.body = JSON.stringify(data); } else if (data) o.body = data;
    return fetch(API + path, o).then(function (r) {
      if (r.status === 204) return null;
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (r.ok) return j;
        var e = new Error((j.error && j.error.message) || ('HTTP ' + r.status));
        e.status = r.status; e.retry = r.headers.get('Retry-After');
        throw e;
      });
    });
  }
  function showErr(e) {
    err.textContent = !e ? '' : e.status === 429 ? T.slow : (e.message || String(e));
    err.hidden = !e;
  }
  function forget() { token = null; try { localStorage.removeItem(KEY); } catch (_e) { /* ignore */ } stop(); list.textContent = ''; lastId = 0; view(); }
  function keep(t) { token = t; try { localStorage.setItem(KEY, t); } catch (_e) { /* ignore */ } }

  // ---- messages --------------------------------------------------------------------------
  // Times in the widget's language, 24-hour (English as en-GB), not the browser's default locale.
  function clock(ms) {
    var l = cfg && cfg.lang && cfg.lang !== 'en' ? cfg.lang : 'en-GB';
    return new Date(ms).toLocaleTimeString(l, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  }
  function find(m) {
    return (m.id && list.querySelector('[data-id="' + m.id + '"]')) || (m.client_id && list.querySelector('[data-c="' + m.client_id + '"]'));
  }
  function render(m, quiet) {
    var mine = m.from === 'visitor', el = find(m), fresh = !el;
    if (fresh) el = h('div');
    el.className = 'm ' + (mine ? 'me' : 'ag') + (m.pending ? ' pending' : '') + (m.failed ? ' failed' : '');
    el.textContent = '';
    if (m.id) el.setAttribute('data-id', m.id);
    if (m.client_id) el.setAttribute('data-c', m.client_id);
    if (!mine) el.appendChild(h('div', 'who', m.agent || T.agent));
    var t = h('div', 't');
    if (m.text) t.appendChild(document.createTextNode(m.text));
    (m.files || []).forEach(function (f) {
      if (f.url && /^image\//.test(f.mime)) { var i = h('img'); i.alt = f.name; i.src = f.url; t.appendChild(i); } else t.appendChild(h('div', null, '📎 ' + f.name));
    });
    el.appendChild(t);
    if (m.survey && !mine) el.appendChild(survey());
    el.appendChild(h('div', 'meta', m.failed ? T.retry : m.created ? clock(m.created) : ''));
    if (m.failed) t.onclick = function () { m.failed = false; m.pending = true; render(m); m.retry(); };
    if (fresh) list.appendChild(el);
    if (!mine && m.id && !quiet) { hideTyping(); if (panel.hidden) { unread++; badgeUp(); } else markRead(m.id); }
    seen(); scroll();
  }
  // The satisfaction survey: five buttons (1 poor … 5 excellent); the click is the answer.
  function survey() {
    var g = h('div', 'sv'); g.setAttribute('role', 'group'); g.setAttribute('aria-label', T.survey_label || '');
    for (var n = 1; n <= 5; n++) (function (n) {
      var b = h('button', 'svb', String(n)); b.type = 'button';
      b.setAttribute('aria-label', (T.survey_score || '{n} of 5').replace('{n}', n));
      b.onclick = function () {
        var all = g.querySelectorAll('button'); for (var i = 0; i < all.length; i++) all[i].disabled = true;
        call('POST', '/survey', { score: n }).then(function () { done(); }, function (e) {
          if (e.status === 409) done(); else { for (var i = 0; i < all.length; i++) all[i].disabled = false; showErr(e); }
        });
      };
      g.appendChild(b);
    })(n);
    function done() { g.textContent = ''; g.appendChild(h('div', 'note', T.survey_thanks)); }
    return g;
  }
  function seen() {
    var old = list.querySelector('.seen'); if (old) old.parentNode.removeChild(old);
    var mine = list.querySelectorAll('.me[data-id]'), last = null;
    for (var i = 0; i < mine.length; i++) if (+mine[i].getAttribute('data-id') <= seenUpTo) last = mine[i];
    if (last && last === mine[mine.length - 1]) last.appendChild(h('div', 'meta seen', T.seen));
  }
  function scroll() { body.scrollTop = body.scrollHeight; }
  function badgeUp() { badge.textContent = unread > 9 ? '9+' : String(unread); badge.hidden = !unread; }
  function hideTyping() { typing.hidden = true; clearTimeout(typingTimer); }
  function markRead(id) {
    if (document.visibilityState === 'hidden' || !token) return;
    call('POST', '/read', { up_to: id }).catch(function () { /* best effort */ });
  }
  function cid() {
    var a = new Uint8Array(12); crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }

  // ---- events (fetch-based SSE: EventSource cannot send the Authorization header) ---------
  function stop() { if (stream) stream.abort(); stream = null; }
  function listen() {
    stop();
    var ctl = new AbortController(), wait = 1000; stream = ctl;
    (function connect() {
      if (stream !== ctl) return;
      fetch(API + '/events', { credentials: 'omit', signal: ctl.signal, headers: { Authorization: 'Bearer ' + token, 'Last-Event-ID': String(lastId) } })
        .then(function (r) {
          if (r.status === 401) { forget(); throw 0; }
          if (!r.ok || !r.body) throw new Error('HTTP ' + r.status);
          online(cfg && cfg.online, false); wait = 1000;
          var rd = r.body.getReader(), dec = new TextDecoder(), buf = '';
          return (function pump() {
            return rd.read().then(function (x) {
              if (x.done) return;
              buf += dec.decode(x.value, { stream: true });
              var i;
              while ((i = buf.indexOf('\n\n')) >= 0) { frame(buf.slice(0, i)); buf = buf.slice(i + 2); }
              return pump();
            });
          })();
        })
        .catch(function () { /* retried below */ })
        .then(function () {
          if (stream !== ctl || ctl.signal.aborted) return;
          online(cfg && cfg.online, true);
          setTimeout(connect, wait); wait = Math.min(wait * 2, 15000);
        });
    })();
  }
  function frame(text) {
    var id = null, data = '';
    text.split('\n').forEach(function (l) {
      if (l.indexOf('id:') === 0) id = l.slice(3).trim();
      else if (l.indexOf('data:') === 0) data += l.slice(5).replace(/^ /, '');
    });
    if (id) lastId = +id;
    if (!data) return;
    var ev; try { ev = JSON.parse(data); } catch (_e) { return; }
    var d = ev.data || {};
    if (ev.kind === 'message') render(d);
    else if (ev.kind === 'typing') { typing.textContent = (T.typing || '').replace('{name}', d.name || T.agent || ''); typing.hidden = false; scroll(); clearTimeout(typingTimer); typingTimer = setTimeout(hideTyping, 6000); }
    else if (ev.kind === 'read') { seenUpTo = Math.max(seenUpTo, d.last_read || 0); seen(); }
    else if (ev.kind === 'session') { note.textContent = T.ended; note.hidden = d.status !== 'closed'; }
    else if (ev.kind === 'reset') history();
  }

  // ---- flows -----------------------------------------------------------------------------
  function online(on, reconnecting) {
    status.className = 'st' + (on ? ' on' : '');
    stText.textContent = reconnecting ? T.reconnect : on ? T.online : T.offline;
  }
  function view() {
    var open = !!cfg;
    pre.hidden = !(open && !token && cfg.online && cfg.prechat_form);
    off.hidden = !(open && !token && !cfg.online);
    comp.hidden = !(open && (token || (cfg.online && !cfg.prechat_form)));
    fileB.hidden = !(cfg && cfg.uploads);
    greet.hidden = !(cfg && cfg.greeting);
    var hs = cfg && cfg.hours;
    hrs.hidden = !hs || hs.open;
    if (hs && !hs.open) hrs.textContent = hoursLine(hs.next);
  }
  // Business hours, when closed: "We reply tomorrow from 8:00." (the box's time).
  function hoursLine(n) {
    if (!n) return T.closed;
    var d = { mon: T.day_mon, tue: T.day_tue, wed: T.day_wed, thu: T.day_thu, fri: T.day_fri, sat: T.day_sat, sun: T.day_sun }[n.weekday] || n.weekday;
    if (n.days_ahead >= 7) d += ' ' + n.date;
    var line = n.days_ahead === 0 ? T.today : n.days_ahead === 1 ? T.tomorrow : T.on;
    return T.closed + ' ' + (line || '').replace('{t}', n.time).replace('{d}', d);
  }
  function history() {
    return call('GET', '/history').then(function (hist) {
      list.textContent = ''; lastId = hist.last_event_id;
      hist.messages.forEach(function (m) { render(m, true); });
      var ag = hist.messages.filter(function (m) { return m.from === 'agent'; });
      if (ag.length && !panel.hidden) markRead(ag[ag.length - 1].id);
      note.hidden = hist.session_status !== 'closed'; note.textContent = T.ended;
      listen(); view();
    }, function (e) { if (e.status === 401) forget(); else showErr(e); });
  }
  // The browser's language: the server keeps it on the contact (automatic replies use it).
  function lang() { return (navigator.language || '').slice(0, 35); }
  function ensure() {
    if (token) return Promise.resolve();
    return call('POST', '/visitors', { language: lang() }).then(function (r) { keep(r.visitor_token); return history(); });
  }
  function send(text) {
    var m = { from: 'visitor', text: text, client_id: cid(), pending: true, created: Date.now() };
    m.retry = function () {
      ensure().then(function () { return call('POST', '/messages', { text: text, client_id: m.client_id, language: lang() }); })
        .then(function (r) { showErr(null); render(r.message); }, function (e) {
          showErr(e); m.pending = false; m.failed = true; render(m);
        });
    };
    render(m); m.retry();
  }
  function upload(f) {
    if (!/^image\//.test(f.type)) return showErr(new Error(T.notimg));
    if (f.size > (cfg.max_image_bytes || 10485760)) return showErr(new Error(T.big));
    var m = { from: 'visitor', text: '', files: [{ name: f.name, mime: f.type }], client_id: cid(), pending: true };
    render(m);
    ensure().then(function () {
      return call('POST', '/uploads', f, { 'Content-Type': f.type, 'X-Filename': encodeURIComponent(f.name) });
    }).then(function (r) { var el = find(m); if (el) el.parentNode.removeChild(el); showErr(null); render(r.message); }, function (e) {
      var el = find(m); if (el) el.parentNode.removeChild(el); showErr(e);
    });
  }
  function insert(s) {
    var a = input.selectionStart || input.value.length, b = input.selectionEnd || a;
    input.value = input.value.slice(0, a) + s + input.value.slice(b);
    input.focus(); input.selectionStart = input.selectionEnd = a + s.length; emo.hidden = true;
  }
  function submit() {
    var text = input.value.trim();
    if (!text) return;
    if (text.length > ((cfg && cfg.max_text) || 4000)) return showErr(new Error('≤ ' + cfg.max_text));
    input.value = ''; emo.hidden = true; send(text);
  }

  bubble.onclick = function () {
    panel.hidden = !panel.hidden;
    if (panel.hidden) return;
    unread = 0; badgeUp(); view(); scroll();
    var last = list.querySelectorAll('.ag[data-id]');
    if (last.length) markRead(+last[last.length - 1].getAttribute('data-id'));
    var f = !comp.hidden ? input : !pre.hidden ? preName : !off.hidden ? offName : null;
    if (f) f.focus();
  };
  closeB.onclick = function () { panel.hidden = true; bubble.focus(); };
  emoB.onclick = function () { emo.hidden = !emo.hidden; };
  fileB.onclick = function () { file.click(); };
  file.onchange = function () { if (file.files[0]) upload(file.files[0]); file.value = ''; };
  sendB.onclick = submit;
  input.onkeydown = function (e) { if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); } };
  input.oninput = function () {
    if (!token || Date.now() - typedAt < 2500) return;
    typedAt = Date.now(); call('POST', '/typing').catch(function () { /* best effort */ });
  };
  pre.onsubmit = function (e) {
    e.preventDefault();
    call('POST', '/visitors', { name: preName.value, email: preMail.value, language: lang() }).then(function (r) {
      showErr(null); keep(r.visitor_token); view(); input.focus(); return history();
    }, showErr);
  };
  off.onsubmit = function (e) {
    e.preventDefault();
    call('POST', '/offline', { name: offName.value, email: offMail.value, text: offMsg.value, language: lang() }).then(function (r) {
      showErr(null); if (r.visitor_token) keep(r.visitor_token);
      off.reset(); history().then(function () { note.textContent = T.thanks; note.hidden = false; });
    }, showErr);
  };

  function start() {
    call('GET', '/config').then(function (c) {
      T = c.strings || {}; texts(); document.body.appendChild(host);
      cfg = c; title.textContent = c.title || 'Chat'; greet.textContent = c.greeting; offText.textContent = c.offline_message;
      if (/^#[0-9a-fA-F]{3,8}$/.test(c.accent || '')) accent.replaceSync(':host{--a:' + c.accent + '}');
      online(c.online, false); view();
      if (token) history();
    }, function (e) {
      // Not for this website, or the server cannot be reached: visitors see no broken bubble;
      // the site's developer finds the reason in the console.
      if (window.console) console.warn('Switchboard chat: ' + (e.message || e));
    });
  }
  if (document.body) start(); else document.addEventListener('DOMContentLoaded', start);
})();
