// fanout's run timeline: draws the JSON in #timeline-data (core.Timeline).
// Plain DOM, no library, nothing loaded: the page must open offline.
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("timeline-data").textContent);
  var app = document.getElementById("app");
  var total = Math.max(D.end_ms, 1);
  var state = { by: "host", fold: true, zoom: 1, filter: "" };
  // The page's address may choose the view: #rows=tasks, #fold=off,
  // #show=TASK/HOST (that pair's details), so a link shows what it means.
  var opts = {};
  location.hash.replace(/^#/, "").split("&").forEach(function (kv) {
    var i = kv.indexOf("=");
    if (i > 0) opts[decodeURIComponent(kv.slice(0, i))] = decodeURIComponent(kv.slice(i + 1));
  });
  if (opts.rows === "tasks") state.by = "task";
  if (opts.fold === "off") state.fold = false;
  var bars = D.bars || [], cascade = D.cascade || [], waves = D.waves || [], pauses = D.pauses || [];
  var byHost = {}, byTask = {};

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function add(parent, child) { parent.appendChild(child); return child; }
  // A `fanout rollback` run hours after the run would squeeze the run into
  // a sliver: the idle time before it is cut out of the axis, drawn as a
  // narrow break that says how long it was.
  var cuts = [];
  (D.recoveries || []).forEach(function (r) {
    var before = 0;
    (D.bars || []).forEach(function (b) { if ((b.recovery || 0) < r.index) before = Math.max(before, b.end_ms); });
    (D.cascade || []).forEach(function (c) { if ((c.recovery || 0) < r.index) before = Math.max(before, c.end_ms); });
    (D.waves || []).forEach(function (w) { before = Math.max(before, w.end_ms); });
    if (r.start_ms - before > 0.3 * total) cuts.push({ from: before, to: r.start_ms, recovery: r.index });
  });
  var cutLen = 0;
  cuts.forEach(function (c) { cutLen += c.to - c.from; });
  var gapMs = Math.max((total - cutLen) * 0.05, 1);
  // pos maps a time to its place on the axis, cuts shrunk to gapMs.
  function pos(ms) {
    var x = ms;
    cuts.forEach(function (c) {
      if (ms >= c.to) x -= (c.to - c.from) - gapMs;
      else if (ms > c.from) x -= (ms - c.from) * (1 - gapMs / (c.to - c.from));
    });
    return x;
  }
  var axisLen = Math.max(pos(total), 1);
  function pct(ms) { return (pos(ms) / axisLen * 100) + "%"; }
  function span(from, to) { return (Math.max(pos(to) - pos(from), 0) / axisLen * 100) + "%"; }
  function dur(ms) {
    if (ms < 1000) return ms + "ms";
    if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1).replace(/\.?0+$/, "") + "s";
    if (ms < 3600000) {
      var m = Math.floor(ms / 60000), s = Math.round((ms % 60000) / 1000);
      return m + "m" + (s ? s + "s" : "");
    }
    var h = Math.floor(ms / 3600000), mm = Math.round((ms % 3600000) / 60000);
    return h + "h" + (mm ? mm + "m" : "");
  }
  function cls(status) { return "st-" + String(status).replace(/[^a-z]+/g, "-").replace(/-$/, ""); }
  function slug(s) { return String(s).replace(/[^a-z]+/g, "-"); }
  function hosts(n) { return n + (n === 1 ? " host" : " hosts"); }

  bars.forEach(function (b, i) {
    b.i = i;
    (byHost[b.host] = byHost[b.host] || []).push(b);
    (byTask[b.task] = byTask[b.task] || []).push(b);
    if (b.phase === "rollback") {
      cascade.forEach(function (s) {
        if (s.task === b.task && (s.recovery || 0) === (b.recovery || 0) && s.hosts.indexOf(b.host) >= 0) b.step = s.step;
      });
    }
  });

  // --- the header: the run, the recap's numbers, the cause ---
  var header = add(app, el("header"));
  var h1 = add(header, el("h1", "", "fanout run " + D.run_id));
  add(h1, el("span", "status s-" + slug(D.status), D.status)).id = "run-status";
  add(header, el("div", "meta", D.config + " \u00b7 started " + D.started + " \u00b7 " + dur(D.recap.duration_ms) + " recorded"));
  var recap = add(header, el("div", "recap"));
  recap.id = "recap";
  function tile(n, label, bad) {
    var t = add(recap, el("div", "tile" + (bad && n > 0 ? " bad" : "")));
    add(t, el("b", "", n));
    add(t, el("span", "", label));
    t.dataset.label = label;
  }
  tile(D.recap.hosts, "hosts");
  tile(D.recap.tasks, "tasks");
  Object.keys(D.recap.runs).sort().forEach(function (k) {
    tile(D.recap.runs[k], k, k !== "ok" && k !== "skipped" && k !== "skipped (condition)");
  });
  tile(D.recap.rolled_back, "rolled back");
  if (D.recap.rollback_failed) tile(D.recap.rollback_failed, "rollback failed", true);
  if (D.recap.dropped) tile(D.recap.dropped, "dropped", true);
  if (D.recap.waves) tile(D.recap.waves, "waves");
  if (D.recap.preflight) tile(D.recap.preflight, "preflight failed", true);
  if (D.cause) add(header, el("p", "cause", D.cause)).id = "cause";
  if (D.first_failure) {
    var ff = add(header, el("p", "", "First failure: task " + D.first_failure.task + " on " + D.first_failure.host));
    ff.id = "first-failure";
    ff.style.cursor = "pointer";
    ff.onclick = function () {
      var b = bars.filter(function (x) { return x.first; })[0];
      if (b) show(b);
    };
  }
  if (D.in_progress) add(header, el("p", "note", "The journal has no final record: the run is still going, or fanout stopped before its end. Bars without an end recorded are drawn to the journal's last record, dashed. fanout rollback " + D.run_id + " rolls back what it started."));
  if (D.truncated) add(header, el("p", "note", "The journal's last line was cut short, as a crash mid-write leaves it; that line is ignored."));
  (D.preflight || []).forEach(function (p) { add(header, el("p", "note", "preflight: " + p.host + ": " + p.error)); });

  // --- panels: the rollback cascade in order, the drops, the waves ---
  var panels = add(app, el("div", "panels"));
  if (cascade.length || (D.recoveries || []).length) {
    var cp = add(panels, el("div", "panel"));
    cp.id = "cascade";
    var groups = [0].concat((D.recoveries || []).map(function (r) { return r.index; }));
    groups.forEach(function (g) {
      var steps = cascade.filter(function (s) { return (s.recovery || 0) === g; });
      var title = "Rollback cascade of the run";
      if (g > 0) {
        var r = D.recoveries[g - 1];
        title = "fanout rollback #" + g + " (" + r.status + ", at +" + dur(r.start_ms) + ")";
      }
      if (!steps.length && g === 0) return;
      add(cp, el("h2", "", title));
      var ol = add(cp, el("ol"));
      steps.forEach(function (s) {
        var text = "task " + s.task + " on " + s.hosts.join(", ") + " \u2014 +" + dur(s.start_ms) + ", " + dur(s.end_ms - s.start_ms);
        if (s.failed && s.failed.length) text += "; failed on " + s.failed.join(", ");
        if (s.open) text += "; unfinished";
        var li = add(ol, el("li", "", text));
        li.dataset.task = s.task;
        li.onclick = function () { highlight(function (b) { return b.phase === "rollback" && b.task === s.task && (b.recovery || 0) === g; }); };
      });
    });
  }
  if ((D.drops || []).length) {
    var dp = add(panels, el("div", "panel"));
    dp.id = "drops";
    add(dp, el("h2", "", "Dropped hosts (within the failure budget, rolled back whole)"));
    var ul = add(dp, el("ul"));
    D.drops.forEach(function (d) {
      var li = add(ul, el("li", "", d.host + " at +" + dur(d.at_ms) + ": " + d.cause));
      li.onclick = function () { highlight(function (b) { return b.host === d.host; }); };
    });
  }
  if (waves.length) {
    var wp = add(panels, el("div", "panel"));
    wp.id = "waves";
    add(wp, el("h2", "", "Waves"));
    var wl = add(wp, el("ul"));
    waves.forEach(function (w) {
      var text = w.task + " " + w.index + "/" + w.of + ": " + hosts(w.hosts.length) + ", +" + dur(w.start_ms) + ", " + dur(w.end_ms - w.start_ms);
      if (w.failed && w.failed.length) text += "; failed: " + w.failed.join(", ");
      if (!w.finished) text += "; not finished";
      var li = add(wl, el("li", "", text));
      li.onclick = function () { highlight(function (b) { return b.task === w.task && b.phase === "run" && b.wave === w.index; }); };
    });
  }

  // --- controls ---
  var controls = add(app, el("div", "controls"));
  function toggle(label, on, fn) {
    var b = add(controls, el("button", on ? "on" : "", label));
    b.type = "button";
    b.onclick = fn;
    return b;
  }
  var byHostB = toggle("rows: hosts", true, function () { state.by = "host"; sync(); });
  var byTaskB = toggle("rows: tasks", false, function () { state.by = "task"; sync(); });
  var foldB = toggle("fold alike hosts", true, function () { state.fold = !state.fold; sync(); });
  byHostB.id = "by-host"; byTaskB.id = "by-task"; foldB.id = "fold";
  var zl = add(controls, el("label", "", "zoom "));
  var zoom = add(zl, el("input"));
  zoom.type = "range"; zoom.min = "0"; zoom.max = "6"; zoom.step = "0.25"; zoom.value = "0"; zoom.id = "zoom";
  zoom.oninput = function () { state.zoom = Math.pow(2, +zoom.value); document.documentElement.style.setProperty("--zoom", state.zoom); drawAxis(); };
  var fl = add(controls, el("label", "", "filter "));
  var filter = add(fl, el("input"));
  filter.placeholder = "host or task";
  filter.oninput = function () { state.filter = filter.value.trim(); draw(); };
  var legend = add(controls, el("div", "legend"));
  ["ok", "failed", "check failed", "timed out", "unreachable", "interrupted", "unfinished", "skipped (condition)"].forEach(function (s) {
    var item = add(legend, el("span"));
    add(item, el("i", cls(s)));
    item.appendChild(document.createTextNode(s));
  });
  add(legend, el("span", "", "upper bar: run \u00b7 lower, striped: rollback \u00b7 | a retried attempt"));

  var chart = add(app, el("div"));
  chart.id = "chart";
  var grid = add(chart, el("div", "grid"));
  var detail = add(app, el("div"));
  detail.id = "detail";
  detail.hidden = true;
  add(app, el("footer", "", "Drawn from the run's journal. Command output is not journaled: a failure keeps the last lines of its stderr (or of its check) only; sensitive values show as their placeholders."));

  function sync() {
    byHostB.className = state.by === "host" ? "on" : "";
    byTaskB.className = state.by === "task" ? "on" : "";
    foldB.className = state.fold ? "on" : "";
    foldB.disabled = state.by !== "host";
    draw();
  }

  // rows returns what to draw, one entry a row.
  function rows() {
    if (state.by === "task") {
      return D.tasks.map(function (t) { return { label: t, bars: byTask[t] || [], title: t }; });
    }
    if (!state.fold) {
      return D.hosts.map(function (h) { return { label: h, bars: byHost[h] || [], title: h }; });
    }
    return D.folds.map(function (f) { return foldRow(f); });
  }

  // foldRow draws hosts with the same history as one row: each of their
  // bars spans from the earliest start to the latest end among them.
  function foldRow(f) {
    var env = {}, order = [];
    f.hosts.forEach(function (h) {
      (byHost[h] || []).forEach(function (b) {
        var k = b.task + "|" + b.phase + "|" + (b.recovery || 0);
        var e = env[k];
        if (!e) {
          e = env[k] = { rep: b, start_ms: b.start_ms, end_ms: b.end_ms, n: 0, first: false, retried: [] };
          order.push(k);
        }
        e.start_ms = Math.min(e.start_ms, b.start_ms);
        e.end_ms = Math.max(e.end_ms, b.end_ms);
        e.n++;
        e.first = e.first || b.first;
        if (f.hosts.length === 1) e.retried = b.retried || [];
      });
    });
    var list = order.map(function (k) {
      var e = env[k], b = Object.create(e.rep);
      b.start_ms = e.start_ms; b.end_ms = e.end_ms; b.first = e.first; b.fold = f; b.retried = e.retried;
      return b;
    });
    var label = f.hosts[0] + (f.hosts.length > 1 ? " +" + (f.hosts.length - 1) + " alike" : "");
    return { label: label, bars: list, title: f.hosts.join(", "), fold: f };
  }

  function matches(r) {
    if (!state.filter) return true;
    var q = state.filter.toLowerCase();
    return r.title.toLowerCase().indexOf(q) >= 0 || r.bars.some(function (b) { return b.task.toLowerCase().indexOf(q) >= 0; });
  }

  function tip(b) {
    var t = b.task + " on " + b.host + " (" + b.phase + (b.recovery ? ", fanout rollback #" + b.recovery : "") + "): " + (b.describe || b.status);
    t += "\n+" + dur(b.start_ms) + " for " + dur(b.end_ms - b.start_ms);
    if (b.exit_code !== 0 && !b.open) t += "\nexit code " + b.exit_code;
    if (b.attempts > 1) t += "\n" + b.attempts + " attempts";
    if (b.check_attempts) t += "\ncheck: " + b.check_attempts + " attempts";
    var tail = (b.stderr_tail || []).concat(b.check_tail || []);
    if (tail.length) t += "\n" + tail.slice(-3).join("\n");
    if (b.fold && b.fold.hosts.length > 1) t += "\n(" + b.fold.hosts.length + " hosts alike; click for the first)";
    return t;
  }

  function drawAxis() {
    var old = grid.querySelector(".axis .track");
    if (!old) return;
    old.textContent = "";
    var width = old.getBoundingClientRect().width || 800;
    var want = Math.max(2, Math.floor(width / 90));
    var raw = axisLen / want, p = Math.pow(10, Math.floor(Math.log(raw) / Math.LN10)), step = p;
    [1, 2, 5, 10].some(function (m) { step = m * p; return step >= raw; });
    // Ticks on each stretch between cuts, the first of a stretch at its
    // start.
    var from = 0;
    cuts.concat([{ from: total, to: total }]).forEach(function (c, i) {
      var t = i === 0 ? 0 : from;
      for (var first = true; t <= c.from; first = false) {
        var k = add(old, el("div", "tick", "+" + dur(Math.round(t))));
        k.style.left = pct(t);
        t = first && i > 0 ? Math.ceil((t + step / 2) / step) * step : t + step;
      }
      from = c.to;
    });
  }

  function draw() {
    grid.textContent = "";
    var axis = add(grid, el("div", "axis"));
    add(axis, el("div", "label", state.by === "host" ? (state.fold ? "hosts (folded)" : "hosts") : "tasks"));
    add(axis, el("div", "track"));
    var overlay = add(grid, el("div", "overlay"));
    cuts.forEach(function (c) {
      var band = add(overlay, el("div", "band cut"));
      band.style.left = pct(c.from);
      band.style.width = span(c.from, c.to);
      add(band, el("span", "", dur(c.to - c.from) + " later"));
      band.title = "fanout rollback #" + c.recovery + " started " + dur(c.to - c.from) + " after the run's last record";
    });
    if (waves.length) {
      // A row of its own names the waves and pauses; the bands behind
      // every row show where they fall.
      var wr = add(grid, el("div", "row waves"));
      add(wr, el("div", "label", "waves"));
      var wt = add(wr, el("div", "track"));
      waves.forEach(function (w) {
        var band = add(overlay, el("div", "band"));
        band.style.left = pct(w.start_ms);
        band.style.width = span(w.start_ms, w.end_ms);
        var tag = add(wt, el("div", "wave" + (w.failed && w.failed.length ? " failed" : ""), w.task + " " + w.index + "/" + w.of));
        tag.style.left = pct(w.start_ms);
        tag.style.width = span(w.start_ms, w.end_ms);
        tag.title = w.task + " wave " + w.index + " of " + w.of + ": " + w.hosts.join(", ") + (w.failed && w.failed.length ? "\nfailed: " + w.failed.join(", ") : "");
      });
      pauses.forEach(function (p) {
        var band = add(overlay, el("div", "band pause"));
        band.style.left = pct(p.start_ms);
        band.style.width = span(p.start_ms, p.end_ms);
        var tag = add(wt, el("div", "wave pause", "pause"));
        tag.style.left = pct(p.start_ms);
        tag.style.width = span(p.start_ms, p.end_ms);
        tag.title = "pause after " + p.task + " wave " + p.after + ": " + dur(p.end_ms - p.start_ms);
      });
    }
    var n = 0, nb = 0;
    rows().forEach(function (r) {
      if (!matches(r)) return;
      n++;
      var row = add(grid, el("div", "row"));
      row.dataset.key = r.fold ? r.fold.hosts[0] : r.label;
      if (r.fold) row.dataset.hosts = r.fold.hosts.length;
      var label = add(row, el("div", "label", r.label));
      label.title = r.title;
      var track = add(row, el("div", "track"));
      r.bars.forEach(function (b) {
        nb++;
        var e = add(track, el("div", "bar " + cls(b.status) + (b.phase === "rollback" ? " rb" : "") + (b.first ? " first" : "")));
        e.style.left = pct(b.start_ms);
        e.style.width = span(b.start_ms, b.end_ms);
        e.title = tip(b);
        e.dataset.task = b.task;
        e.dataset.host = b.host;
        e.dataset.phase = b.phase;
        e.dataset.status = b.status;
        e.dataset.i = b.i;
        e.onclick = function () { show(b); };
        if (b.first) {
          var f = add(track, el("div", "flag", "\u2716 first failure: " + b.task + (state.by === "task" ? " on " + b.host : "")));
          f.style.left = pct(b.end_ms);
        } else if (b.dropped && state.by === "host") {
          var d = add(track, el("div", "flag", "dropped"));
          d.style.left = pct(b.end_ms);
        }
        if (b.step && state.by === "host") {
          var s = add(track, el("div", "step", "#" + b.step));
          s.style.left = pct(b.end_ms);
        }
        (b.retried || []).forEach(function (a) {
          var m = add(track, el("div", "retry"));
          m.style.left = pct(a.at_ms);
          m.title = "attempt " + a.attempt + ": " + a.describe + ", tried again";
        });
      });
    });
    grid.dataset.rows = n;
    grid.dataset.bars = nb;
    drawAxis();
    document.body.dataset.rendered = "yes";
  }

  function highlight(pred) {
    grid.querySelectorAll(".bar.hl").forEach(function (e) { e.classList.remove("hl"); });
    var first = null;
    grid.querySelectorAll(".bar").forEach(function (e) {
      if (pred(bars[+e.dataset.i])) {
        e.classList.add("hl");
        first = first || e;
      }
    });
    if (first) first.scrollIntoView({ block: "center", inline: "center" });
  }

  function show(b) {
    detail.textContent = "";
    detail.hidden = false;
    var x = add(detail, el("button", "x", "\u00d7"));
    x.onclick = function () { detail.hidden = true; };
    add(detail, el("h3", "", b.task + " on " + b.host + " \u2014 " + b.phase + (b.recovery ? " (fanout rollback #" + b.recovery + ")" : "")));
    var t = add(detail, el("table"));
    function kv(k, v) {
      if (v === undefined || v === null || v === "") return;
      var tr = add(t, el("tr"));
      add(tr, el("td", "", k));
      add(tr, el("td", "", v));
    }
    kv("outcome", b.describe || b.status);
    if (!b.open) kv("exit code", b.exit_code);
    kv("signal", b.signal);
    if (b.command >= 0 && b.status !== "ok") kv("command", "#" + (b.command + 1));
    if (!b.describe || b.describe.indexOf(b.error) < 0) kv("error", b.error);
    kv("started", "+" + dur(b.start_ms));
    kv("took", dur(b.end_ms - b.start_ms) + (b.open ? " so far (no end recorded)" : ""));
    if (b.wave) kv("wave", b.wave);
    if (b.attempts) kv("attempts", b.attempts);
    (b.retried || []).forEach(function (a) { kv("attempt " + a.attempt, a.describe + " at +" + dur(a.at_ms) + ", tried again"); });
    if (b.check_attempts) kv("check attempts", b.check_attempts);
    if (b.step) kv("cascade step", "#" + b.step);
    if (b.first) kv("", "the run's first failure");
    if (b.dropped) kv("", "the host was dropped within the failure budget and rolled back");
    if (b.fold && b.fold.hosts.length > 1) kv("hosts alike", b.fold.hosts.length + ": " + b.fold.hosts.slice(0, 40).join(", ") + (b.fold.hosts.length > 40 ? ", \u2026" : ""));
    if ((b.stderr_tail || []).length) {
      add(detail, el("div", "", "last lines of stderr:"));
      add(detail, el("pre", "", b.stderr_tail.join("\n")));
    }
    if ((b.check_tail || []).length) {
      add(detail, el("div", "", "last lines of the check:"));
      add(detail, el("pre", "", b.check_tail.join("\n")));
    }
  }

  sync();
  window.addEventListener("resize", drawAxis);
  if (opts.show) {
    var want = opts.show.split("/");
    var pick = bars.filter(function (b) { return b.task === want[0] && b.host === want[1] && b.phase === "run"; })[0];
    if (pick) show(pick);
  }
})();
