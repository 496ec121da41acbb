// vulscan: live status on an attempt's page, without reloading it. The page works without this
// script ("Check again" link); with it, the status region (aria-live="polite") is updated in
// place from GET api/scans/{id}, polling less often as time goes on and stopping when the scan
// ends. It acts only on a page whose #live region has data-poll.
(function () {
  "use strict";
  var region = document.getElementById("live");
  if (!region || !region.getAttribute("data-poll")) {
    return;
  }
  var url = region.getAttribute("data-poll");
  var outcome = document.getElementById("outcome");
  var drawnAs = outcome ? outcome.getAttribute("data-outcome") : ""; // the attempt's outcome when drawn
  var delay = 2000;
  var maxDelay = 30000;
  var failures = 0;
  // The same words as web/scanpage.go's statusText.
  var words = { NOT_SCAN: "Not scanned yet", SCANNING: "Scanning", SCANNED: "Finished", CANCELED: "Canceled" };
  // The same as web/scanpage.go's scanBadge.
  var badges = { SCANNED: "Scan finished", CANCELED: "Scan canceled" };
  var headlines = {
    SCANNED: "TCSS finished the scan; the results are below.",
    CANCELED: "The scan was canceled before it finished."
  };

  function setText(field, text) {
    var els = region.querySelectorAll('[data-field="' + field + '"]');
    for (var i = 0; i < els.length; i++) {
      if (els[i].textContent !== text) {
        els[i].textContent = text;
      }
    }
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function utc(d) {
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " +
      pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds()) + " UTC";
  }

  // TCSS writes "2026-12-03 18:35:58" in UTC+8; the page shows UTC.
  function setMoment(id, tcss) {
    var el = document.getElementById(id);
    if (!el || !tcss) {
      return;
    }
    var d = new Date(tcss.replace(" ", "T") + "+08:00");
    el.textContent = isNaN(d.getTime()) ? tcss + " (TCSS time, UTC+8)" : utc(d);
    var note = document.getElementById(id + "-note");
    if (note) {
      note.textContent = "(TCSS: " + tcss + " UTC+8)";
    }
  }

  function duration(seconds) {
    var s = Math.floor(seconds), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    s = s % 60;
    return (h ? h + "h" : "") + (h || m ? m + "m" : "") + s + "s";
  }

  function update(a) {
    var st = a.status;
    if (!st) {
      return;
    }
    var status = document.getElementById("scan-status");
    if (status && status.getAttribute("data-status") !== st.Status) {
      status.setAttribute("data-status", st.Status);
      status.className = "badge status-" + st.Status;
      status.textContent = words[st.Status] || st.Status;
    }
    var progress = region.querySelector('progress[data-field="ScanProgress"]');
    var pct = Math.min(Math.max(st.ScanProgress || 0, 0), 100);
    if (progress) {
      progress.value = Math.round(pct);
      progress.textContent = Math.round(pct * 10) / 10 + "%";
    }
    setText("ScanProgressText", Math.round(pct * 10) / 10 + "%");
    setText("RemainingTime", st.Status === "SCANNING" && st.RemainingTime > 0 ? duration(st.RemainingTime) : "—");
    ["LocalImageScanCount", "FoundRiskImageCount", "FoundVulCount", "IgnoreVulCount",
      "RegistryImageScanCount", "RegistryFoundVulCount"].forEach(function (f) {
      setText(f, String(st[f] || 0));
    });
    if (st.LocalSeverities) {
      ["Critical", "High", "Medium", "Low"].forEach(function (level) {
        var el = region.querySelector('[data-severity="' + level + '"]');
        if (el) {
          el.textContent = String(st.LocalSeverities[level] || 0);
        }
      });
    }
    setMoment("scan-started", st.ScanStartTime);
    setMoment("scan-ended", st.ScanEndTime);
    var checked = document.getElementById("checked-at");
    if (checked) {
      checked.textContent = utc(new Date());
    }
    if (badges[st.Status]) {
      var badge = document.getElementById("badge");
      var headline = document.getElementById("headline");
      if (badge) {
        badge.textContent = badges[st.Status];
      }
      if (headline) {
        headline.textContent = headlines[st.Status];
      }
    }
  }

  function finished(a) {
    if (a.outcome === "pending") {
      return false;
    }
    return a.outcome !== "succeeded" || a.status.Status === "SCANNED" || a.status.Status === "CANCELED";
  }

  function stop(message) {
    region.removeAttribute("data-poll");
    var note = document.getElementById("live-note");
    if (note) {
      note.textContent = message;
    }
  }

  // answered replaces the page's words of waiting for TCSS with the news that it has answered.
  function answered() {
    var text = "TCSS has answered: check again to see how.";
    var badge = document.getElementById("badge");
    var headline = document.getElementById("headline");
    if (badge) {
      badge.textContent = "TCSS answered";
    }
    if (headline) {
      headline.textContent = text;
    }
    var p = document.createElement("p");
    p.id = "status-error";
    p.className = "muted";
    p.textContent = text;
    region.replaceChildren(p);
    stop("");
  }

  function tick() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (resp) {
        if (!resp.ok) {
          throw new Error("status " + resp.status);
        }
        return resp.json();
      })
      .then(function (a) {
        var drawn = !!document.getElementById("scan-status");
        if (!drawn && a.outcome !== "pending" && drawnAs === "pending") {
          // The page was drawn before TCSS answered: it has no status to update in place, and
          // what it says of the wait is no longer true. The status region is a live region, so
          // the change is announced.
          answered();
          return;
        }
        if (a.outcome === "succeeded" && !a.status) {
          // TCSS could not tell where the scan stands this time (status_error): the scan goes
          // on, so this is a failed check, not the end of the scan.
          failed(a.status_error);
          return;
        }
        failures = 0;
        if (!drawn && a.outcome !== "pending") {
          // The page was drawn when TCSS could not tell where the scan stood; now it can. (A
          // page drawn while waiting for TCSS goes on polling until TCSS answers.)
          stop("TCSS can tell where the scan stands now: check again to see it.");
          return;
        }
        update(a);
        if (finished(a)) {
          var line = document.getElementById("check-again-line");
          if (a.outcome === "succeeded" && a.status) {
            if (line) {
              line.hidden = true;
            }
            stop("");
          } else {
            stop("TCSS has answered: check again to see how.");
          }
          return;
        }
        delay = Math.min(delay * 1.5, maxDelay);
        window.setTimeout(tick, delay);
      })
      .catch(function () {
        failed("");
      });
  }

  // failed counts a check that did not tell where the scan stands (why, if known), and tries
  // again later, or stops after several in a row.
  function failed(why) {
    failures++;
    if (failures >= 5) {
      stop("Live updates stopped after repeated errors" + (why ? " (" + why + ")" : "") + "; use Check again.");
      return;
    }
    delay = Math.min(delay * 2, maxDelay);
    window.setTimeout(tick, delay);
  }

  window.setTimeout(tick, delay);
})();
