/*
 * report.js: the report page's filter (inlined by agora report; its hash is
 * in the page's CSP). It folds what one types with the table that agora
 * wrote from the index's own folding (report_filter.c), so that a word here
 * matches exactly what `agora search` matches: each word of the query must
 * be a word of the record, case, accents and Arabic harakat and letter
 * forms folded. The word being typed (the last, while one types it) also
 * matches the start of a word, so the list narrows at each letter.
 * #q=WORDS in the address applies a filter when the page opens.
 */
"use strict";
(function () {
  var root = document.documentElement;
  window.onerror = function (msg) {
    root.removeAttribute("data-ready");
    root.setAttribute("data-error", String(msg));
  };
  document.addEventListener("securitypolicyviolation", function (e) {
    root.removeAttribute("data-ready");
    root.setAttribute("data-error", "blocked by the page's policy: " + e.violatedDirective);
  });

  var table = JSON.parse(document.getElementById("agora-fold").textContent);
  var starts = table.starts, folds = table.folds;

  /* A Hangul syllable as its jamo: Unicode's own algorithm, as the table says. */
  function hangul(cp) {
    var s = cp - 0xac00, t = s % 28;
    var out = String.fromCodePoint(0x1100 + Math.floor(s / 588), 0x1161 + Math.floor((s % 588) / 28));
    return t ? out + String.fromCodePoint(0x11a7 + t) : out;
  }

  /* What cp folds to; a space ends a word. */
  function foldChar(cp) {
    var lo = 0, hi = starts.length - 1;
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= cp) lo = mid; else hi = mid - 1;
    }
    var f = folds[lo];
    if (f === null) return " ";
    if (f === true) return hangul(cp);
    if (typeof f === "number") return String.fromCodePoint(cp + f);
    return f;
  }

  function utf8Len(cp) { return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4; }

  /* The folded words of text, as the index cuts them: two characters or more, at most 64 bytes. */
  function words(text) {
    var out = [], w = "", bytes = 0, chars = 0;
    function end() {
      if (chars >= 2) out.push(w);
      w = ""; bytes = 0; chars = 0;
    }
    for (var ch of text) {
      for (var c of foldChar(ch.codePointAt(0))) {
        if (c === " ") { end(); continue; }
        var n = utf8Len(c.codePointAt(0));
        if (bytes + n <= 64) { w += c; bytes += n; chars++; }
      }
    }
    end();
    return out;
  }

  var articles = Array.prototype.slice.call(document.querySelectorAll("article[data-words]"));
  var sets = articles.map(function (a) { return new Set(a.getAttribute("data-words").split(" ")); });
  var lists = articles.map(function (a) { return a.getAttribute("data-words").split(" "); });
  var groups = Array.prototype.slice.call(document.querySelectorAll(".city-group"));
  var box = document.getElementById("q"), count = document.getElementById("count");

  function matches(i, q, typing) {
    for (var k = 0; k < q.length; k++) {
      if (sets[i].has(q[k])) continue;
      if (!(typing && k === q.length - 1)) return false;
      var last = q[k];
      if (!lists[i].some(function (w) { return w.startsWith(last); })) return false;
    }
    return true;
  }

  /* Shows the records that hold every word of text; typing: the last word may be a beginning. */
  function apply(text, typing) {
    var q = words(text), shown = 0;
    typing = typing && !/\s$/.test(text);
    articles.forEach(function (a, i) {
      var ok = matches(i, q, typing);
      if (ok) { a.removeAttribute("hidden"); shown++; } else a.setAttribute("hidden", "");
    });
    groups.forEach(function (g) {
      g.hidden = !g.querySelector("article:not([hidden])");
    });
    count.textContent = q.length ? shown + " of " + articles.length + " records" :
                                   articles.length + " records";
    root.setAttribute("data-shown", String(shown));
  }

  function fromHash() {
    var h = location.hash.replace(/^#/, "");
    return h.indexOf("q=") === 0 ? new URLSearchParams(h).get("q") || "" : null;
  }

  box.addEventListener("input", function () {
    apply(box.value, true);
    try {
      history.replaceState(null, "", box.value ? "#q=" + encodeURIComponent(box.value) : "#records");
    } catch (e) { /* a page opened from a file may not rewrite its address: the filter still works */ }
  });
  window.addEventListener("hashchange", function () {
    var q = fromHash();
    if (q !== null) { box.value = q; apply(q, false); }
  });
  var q = fromHash();
  if (q !== null) box.value = q;
  apply(q || "", false);
  root.setAttribute("data-ready", "ok");
})();
