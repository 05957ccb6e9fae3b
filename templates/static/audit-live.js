// The audit page's live view: follows the `auditEvents` subscription (GraphQL over Server-Sent Events,
// GET /graphql with the page's filter; the browser sends the session cookie) and puts each new event
// at the top of the table, without reloading. Rows are built with textContent only, never as HTML.
// Without script the page is the same list, reloaded by hand.
(function () {
  'use strict';
  var QUERY = 'subscription AuditLive($filter: AuditEventFilter) { auditEvents(filter: $filter) { id eventType severity success actorId actorUsername subjectType subjectId clientId ipAddress details createdAt } }';
  var MAX_LIVE_ROWS = 500;

  function start() {
    var root = document.getElementById('audit-live');
    var rows = document.getElementById('audit-rows');
    if (!root || !rows || root.getAttribute('data-disabled') === 'true' || typeof window.EventSource !== 'function') return;
    var controls = root.querySelector('.live-controls');
    var toggle = document.getElementById('live-toggle');
    var status = document.getElementById('live-status');
    if (!controls || !toggle || !status) return;

    var filter;
    try { filter = JSON.parse(root.getAttribute('data-filter') || '{}'); } catch (e) { filter = {}; }
    var labels = Array.prototype.map.call(rows.closest('table').querySelectorAll('thead th'), function (th) {
      return th.textContent.replace(/\s*\(UTC\)$/, '');
    });
    var url = '/graphql?query=' + encodeURIComponent(QUERY) + '&variables=' + encodeURIComponent(JSON.stringify({ filter: filter }));
    var source = null;
    var retry = null;
    var delay = 2000;
    var received = 0;

    function say(text, state) {
      status.textContent = text;
      root.setAttribute('data-live', state);
    }

    function cell(label, build) {
      var td = document.createElement('td');
      td.setAttribute('data-label', label);
      build(td);
      return td;
    }
    function textNode(td, text, className) {
      var span = document.createElement('span');
      if (className) span.className = className;
      span.textContent = text;
      td.appendChild(span);
      return span;
    }
    function link(td, href, text, className) {
      var a = document.createElement('a');
      a.href = href;
      a.textContent = text;
      if (className) a.className = className;
      td.appendChild(a);
    }
    function none(td) { textNode(td, '–', 'muted'); }
    function rawId(globalId) {
      try { var text = atob(globalId); return text.slice(text.indexOf(':') + 1); } catch (e) { return ''; }
    }

    function row(e) {
      var tr = document.createElement('tr');
      tr.className = 'live-new';
      tr.appendChild(cell(labels[0], function (td) {
        var time = document.createElement('time');
        time.setAttribute('datetime', e.createdAt);
        time.textContent = e.createdAt.replace('T', ' ').slice(0, 16);
        td.appendChild(time);
      }));
      tr.appendChild(cell(labels[1], function (td) {
        // Long event types may break after their underscores (and nowhere else).
        var type = textNode(td, '', 'event-type');
        e.eventType.split('_').forEach(function (part, i) {
          if (i > 0) { type.appendChild(document.createTextNode('_')); type.appendChild(document.createElement('wbr')); }
          type.appendChild(document.createTextNode(part));
        });
        if (!e.success) { td.appendChild(document.createTextNode(' ')); textNode(td, 'failed', 'badge bad'); }
      }));
      tr.appendChild(cell(labels[2], function (td) {
        var kind = e.severity === 'INFO' ? '' : e.severity === 'WARNING' ? ' warn' : ' bad';
        textNode(td, e.severity.toLowerCase(), 'badge' + kind);
      }));
      tr.appendChild(cell(labels[3], function (td) {
        var id = e.actorId ? rawId(e.actorId) : '';
        if (id) link(td, '/admin/audit?actorId=' + encodeURIComponent(id), e.actorUsername || id);
        else if (e.actorUsername) td.appendChild(document.createTextNode(e.actorUsername));
        else none(td);
        if (e.ipAddress) textNode(td, e.ipAddress, 'ip');
      }));
      tr.appendChild(cell(labels[4], function (td) {
        if (e.clientId) link(td, '/admin/audit?clientId=' + encodeURIComponent(e.clientId), e.clientId, 'mono');
        else none(td);
      }));
      tr.appendChild(cell(labels[5], function (td) {
        if (e.subjectType) { td.appendChild(document.createTextNode(e.subjectType + ' ')); textNode(td, e.subjectId || '', 'mono'); }
        else none(td);
      }));
      tr.appendChild(cell(labels[6], function (td) {
        var details = null;
        try { details = JSON.parse(e.details); } catch (err) { details = null; }
        if (details && typeof details === 'object' && !Array.isArray(details)) {
          var keys = Object.keys(details);
          if (!keys.length) { none(td); return; }
          var list = document.createElement('ul');
          list.className = 'kv';
          keys.forEach(function (key) {
            var li = document.createElement('li');
            textNode(li, key, 'k');
            var value = details[key];
            li.appendChild(document.createTextNode(' ' + (typeof value === 'string' ? value : JSON.stringify(value))));
            list.appendChild(li);
          });
          td.appendChild(list);
        } else {
          var code = document.createElement('code');
          code.className = 'details';
          code.textContent = e.details;
          td.appendChild(code);
        }
      }));
      return tr;
    }

    function add(event) {
      var empty = document.getElementById('audit-empty');
      if (empty) empty.remove();
      rows.insertBefore(row(event), rows.firstChild);
      while (rows.children.length > MAX_LIVE_ROWS) rows.removeChild(rows.lastChild);
      received += 1;
      var total = document.getElementById('audit-total');
      var count = document.getElementById('audit-count');
      if (total && count) {
        var n = (parseInt(count.getAttribute('data-total') || total.textContent, 10) || 0) + 1;
        count.setAttribute('data-total', String(n));
        var filtered = count.getAttribute('data-filtered') === 'true';
        total.textContent = n + ' event' + (n === 1 ? '' : 's') + (filtered ? (n === 1 ? ' matches' : ' match') : '');
      }
      say('Live · ' + received + ' new event' + (received === 1 ? '' : 's'), 'on');
    }

    function stop(text) {
      if (retry) { clearTimeout(retry); retry = null; }
      if (source) { source.close(); source = null; }
      toggle.setAttribute('aria-pressed', 'false');
      say(text || 'Off', 'off');
    }

    function open() {
      if (source) return;
      if (retry) { clearTimeout(retry); retry = null; }
      toggle.setAttribute('aria-pressed', 'true');
      say('Connecting…', 'connecting');
      source = new EventSource(url, { withCredentials: true });
      source.addEventListener('open', function () {
        say(received ? 'Live · ' + received + ' new event' + (received === 1 ? '' : 's') : 'Live · waiting for events', 'on');
      });
      source.addEventListener('next', function (message) {
        var payload;
        try { payload = JSON.parse(message.data); } catch (e) { return; }
        if (payload.errors && payload.errors.length) { stop('Stopped: ' + payload.errors[0].message); return; }
        if (payload.data && payload.data.auditEvents) { delay = 2000; add(payload.data.auditEvents); }
      });
      // The server ends the stream when it shuts down, and when this session has ended or its user was
      // disabled. Subscribing again tells which: a restarted server answers, an ended session is refused
      // (an error payload, which stops the view with its message).
      source.addEventListener('complete', function () {
        if (source) { source.close(); source = null; }
        say('Reconnecting…', 'connecting');
        retry = setTimeout(function () { retry = null; open(); }, delay);
        delay = Math.min(delay * 2, 30000);
      });
      source.addEventListener('error', function () {
        if (!source) return;
        if (source.readyState === EventSource.CLOSED) stop('Disconnected. Reload the page to follow again.');
        else say('Reconnecting…', 'connecting');
      });
    }

    toggle.addEventListener('click', function () {
      if (source || retry) stop('Paused');
      else open();
    });
    controls.hidden = false;
    open();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
