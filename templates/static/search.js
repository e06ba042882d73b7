/* Full-text search and filters for the browse page.
 *
 * Why hand-written and not Pagefind: the team decided the build must stay deterministic
 * and fast (10,000 claims in at most 3 s for the whole build) and must not depend on a
 * binary step. A claim is one sentence, so matching the start of words (a plural's
 * singular, a few phrases readers use for what claims call otherwise) in its statement,
 * id, conditions and mechanisms' names is enough. Quotes are not searched: they would
 * more than double the index. The index is search-index.js, a script that sets a global
 * (not a JSON file fetched at run time), so search also works when opened from file://.
 *
 * A large registry's index is megabytes (18.5 MB at 100,000 claims). Its browse pages name it
 * in the form's data-index instead, and it is loaded on the form's first use, or at once
 * when the address carries a search: a reader who only pages through the list never
 * downloads it. A small index comes with the page, so search answers the first keystroke.
 *
 * Without JavaScript the form stays hidden and the complete claim list shows, in pages.
 * Results are built with DOM methods and textContent only: no claim text becomes HTML.
 */
(function () {
  "use strict";

  var PAGE = 100; // results shown at a time
  var FILTERS = ["mechanism", "dose", "strength", "source", "kind"]; // the select boxes
  var form = document.getElementById("claim-search");
  var src = form && form.getAttribute("data-index"); // an index loaded on demand
  if (!form || !(window.NALTREXONE_SEARCH || src)) {
    return;
  }
  var root = form.getAttribute("data-root") || "";
  var input = document.getElementById("q");
  var controls = {
    mechanism: document.getElementById("f-mechanism"),
    dose: document.getElementById("f-dose"),
    strength: document.getElementById("f-strength"),
    source: document.getElementById("f-source"),
    kind: document.getElementById("f-kind"),
    contested: document.getElementById("f-contested")
  };
  var status = document.getElementById("search-status");
  var results = document.getElementById("search-results");
  var staticList = document.getElementById("static-list");
  var moreWrap = document.getElementById("search-more-wrap");
  var more = document.getElementById("search-more");

  var data = null; // the index, once here
  var haystacks = [];
  var lists = {};
  var doseBoth = -1;
  var doseStandard = -1;
  var doseLow = -1;
  var matches = [];
  var shown = 0;
  var requested = false;

  function indexOf(list, id) {
    for (var i = 0; i < list.length; i++) {
      if (list[i][0] === id) {
        return i;
      }
    }
    return -1;
  }

  function use(index) {
    data = index;
    doseBoth = indexOf(data.doses, "both");
    doseStandard = indexOf(data.doses, "standard");
    doseLow = indexOf(data.doses, "low");
    // claim: [id, statement, mechanisms, dose, strength, sources, contested, more text,
    // overstated, kinds of the supporting sources];
    // its mechanisms' names are searched too: "endorphin rebound" finds every claim filed
    // under it, whatever its statement says
    haystacks = data.claims.map(function (c) {
      var names = c[2].map(function (m) { return data.mechanisms[m][1]; });
      return (c[1] + " " + c[7] + " " + names.join(" ")).toLowerCase();
    });
    lists = {
      mechanism: data.mechanisms,
      dose: data.doses,
      strength: data.strengths,
      source: data.sources,
      kind: data.kinds
    };
  }

  function load() {
    if (requested) {
      return;
    }
    requested = true;
    status.textContent = "Loading the search index\u2026";
    var script = document.createElement("script");
    script.src = src;
    script.onload = function () {
      if (!window.NALTREXONE_SEARCH) {
        failed();
        return;
      }
      use(window.NALTREXONE_SEARCH);
      run(); // what was typed or chosen while it loaded
    };
    script.onerror = failed;
    document.head.appendChild(script);
  }

  function failed() {
    requested = false; // the next use of the form tries again
    status.textContent = "The search index could not be loaded; the complete list is below.";
  }

  function search() {
    if (data) {
      run();
    } else {
      load();
    }
  }

  function selected(name) {
    var value = controls[name].value;
    return value ? indexOf(lists[name], value) : -1;
  }

  function doseMatches(dose, wanted) {
    if (wanted < 0 || dose === wanted) {
      return true;
    }
    return dose === doseBoth && (wanted === doseStandard || wanted === doseLow);
  }

  // Phrases a reader may use for what the claims call otherwise: each finds the others of
  // its group ("LDN" and "low dose" find "low-dose naltrexone", "adverse effects" finds
  // "side effects"). Typed with a hyphen or a space, with or without a plural "s".
  var SAME = [
    ["ldn", "low-dose", "low dose"],
    ["side effect", "side-effect", "adverse effect", "adverse event", "adverse reaction"]
  ];
  // Each phrase as typed: a whole word or words, then maybe a plural or possessive "s"
  // ("LDN's"), which go with it.
  var TYPED = [];
  SAME.forEach(function (group) {
    group.forEach(function (phrase) {
      TYPED.push([group, new RegExp("(^|[^a-z0-9])" + phrase.replace(/[ -]/g, "[\\s-]+") +
        "(?:s|['\u2019]s)?(?![a-z0-9])", "g")]);
    });
  });
  var EDGES = /^[^a-z0-9\u00c0-\uffff]+|[^a-z0-9\u00c0-\uffff]+$/g; // punctuation around a word

  // What was typed as terms, each a list of what may match it.
  function termsOf(query) {
    var terms = [];
    TYPED.forEach(function (typed) {
      query = query.replace(typed[1], function (all, before) {
        terms.push(typed[0]);
        return before + " ";
      });
    });
    query.split(/\s+/).forEach(function (word) {
      word = word.replace(EDGES, "");
      if (word) {
        terms.push([stem(word)]);
      }
    });
    return terms;
  }

  // A term matches at the start of a word ("ms" is not found in "symptoms"), and a plural
  // finds its singular ("side effects" finds "a common side effect").
  function stem(term) {
    return term.length > 4 && /[^s]s$/.test(term) ? term.slice(0, -1) : term;
  }

  function hasWordStart(text, term) {
    for (var at = text.indexOf(term); at >= 0; at = text.indexOf(term, at + 1)) {
      if (at === 0 || !/[a-z0-9\u00c0-\uffff]/.test(text.charAt(at - 1))) {
        return true;
      }
    }
    return false;
  }

  function run() {
    if (!asking()) {
      results.hidden = true;
      moreWrap.hidden = true;
      staticList.hidden = false;
      status.textContent = "";
      return;
    }
    var terms = termsOf(input.value.toLowerCase());
    var mechanism = selected("mechanism");
    var dose = selected("dose");
    var strength = selected("strength");
    var source = selected("source");
    var kind = selected("kind");
    var contested = controls.contested.checked;
    matches = [];
    for (var i = 0; i < data.claims.length; i++) {
      var c = data.claims[i];
      if (mechanism >= 0 && c[2].indexOf(mechanism) < 0) { continue; }
      if (!doseMatches(c[3], dose)) { continue; }
      if (strength >= 0 && c[4] !== strength) { continue; }
      if (source >= 0 && c[5].indexOf(source) < 0) { continue; }
      if (kind >= 0 && c[9].indexOf(kind) < 0) { continue; } // a source of it supports c
      if (contested && !c[6]) { continue; }
      var text = haystacks[i];
      var ok = true;
      for (var t = 0; t < terms.length && ok; t++) {
        ok = terms[t].some(function (phrase) { return hasWordStart(text, phrase); });
      }
      if (ok) { matches.push(c); }
    }
    staticList.hidden = true;
    results.hidden = false;
    results.textContent = "";
    shown = 0;
    showMore();
    status.textContent = matches.length + " of " + data.claims.length + " claims match";
  }

  function badge(href, className, text, hiddenPrefix) {
    var a = document.createElement("a");
    a.className = "badge " + className;
    a.href = root + "methodology.html#" + href;
    if (hiddenPrefix) {
      var vh = document.createElement("span");
      vh.className = "vh";
      vh.textContent = hiddenPrefix;
      a.appendChild(vh);
    }
    a.appendChild(document.createTextNode(text));
    return a;
  }

  // A sign seen but not read by screen readers (a strength's letter, a mark's symbol),
  // put first in the badge `a`.
  function signed(a, className, sign) {
    var span = document.createElement("span");
    span.className = className;
    span.setAttribute("aria-hidden", "true");
    span.textContent = sign;
    a.insertBefore(span, a.firstChild);
    return a;
  }

  // A mark such as contested: its symbol, then its name.
  function flag(name, symbol, text) {
    return signed(badge(name, name, " " + text, ""), "sym", symbol);
  }

  function item(c) {
    var li = document.createElement("li");
    li.className = "claim-item";
    var link = document.createElement("a");
    link.className = "claim-link";
    link.href = root + "claims/" + c[0] + ".html";
    link.textContent = c[1];
    li.appendChild(link);
    li.appendChild(document.createTextNode(" "));
    var badges = document.createElement("span");
    badges.className = "badges";
    var dose = data.doses[c[3]];
    badges.appendChild(badge("dose-" + dose[0], "dose dose-" + dose[0], dose[1], "Dose: "));
    badges.appendChild(document.createTextNode(" "));
    var strength = data.strengths[c[4]];
    var sb = badge("strength-" + strength[0], "strength st-" + strength[0], " " + strength[2], "Strength: ");
    badges.appendChild(signed(sb, "letter", strength[1]));
    c[9].forEach(function (k) { // the kinds of the sources that support it
      var kind = data.kinds[k];
      badges.appendChild(document.createTextNode(" "));
      badges.appendChild(badge("kind-" + kind[0], "kind", kind[1], "Source: "));
    });
    if (c[6]) {
      badges.appendChild(document.createTextNode(" "));
      badges.appendChild(flag("contested", "!", "Contested"));
    }
    if (c[8]) {
      badges.appendChild(document.createTextNode(" "));
      badges.appendChild(flag("overstated", "^", "Overstated"));
    }
    li.appendChild(badges);
    return li;
  }

  function showMore() {
    var end = Math.min(matches.length, shown + PAGE);
    var fragment = document.createDocumentFragment();
    for (; shown < end; shown++) {
      fragment.appendChild(item(matches[shown]));
    }
    results.appendChild(fragment);
    moreWrap.hidden = shown >= matches.length;
  }

  // Whether the form asks for anything: a word, a filter or contested claims only.
  function asking() {
    return Boolean(input.value.trim()) || controls.contested.checked ||
      FILTERS.some(function (name) {
        return controls[name].value !== "";
      });
  }

  // The address's search, if any (a select keeps an unknown value out by itself).
  function readQuery() {
    var params = new URLSearchParams(window.location.search);
    input.value = params.get("q") || "";
    FILTERS.forEach(function (name) {
      var value = params.get(name);
      if (value) {
        controls[name].value = value;
      }
    });
    controls.contested.checked = params.get("contested") === "1";
  }

  form.hidden = false;
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    search();
  });
  form.addEventListener("input", search);
  form.addEventListener("change", search);
  form.addEventListener("focusin", function () {
    if (!data) {
      load(); // a head start while the reader types or chooses
    }
  });
  form.addEventListener("reset", function () {
    window.setTimeout(search, 0);
  });
  more.addEventListener("click", showMore);
  readQuery();
  if (window.NALTREXONE_SEARCH) {
    use(window.NALTREXONE_SEARCH);
    run();
  } else if (asking()) {
    load();
  }
}());
