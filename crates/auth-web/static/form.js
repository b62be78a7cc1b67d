// The connection form's only script (served from the form itself: CSP script-src 'self').
// The form works without it; with it, the timer counts down, waiting pages move on as soon
// as the server's answer comes, and a form is sent once per click.
(function () {
  "use strict";

  // The page of this attempt, always at a GET URL. A page may have been rendered at a POST
  // URL (a refusal at /connect, say): reloading it would post the form again (the password,
  // for /connect), and a GET of it answers 405. So the script never reloads: it goes home.
  var main = document.querySelector("main[data-home]");
  var home = (main && main.getAttribute("data-home")) || "./";
  function goHome() { location.replace(home); }

  // The countdown: from the time left the server computed (its clock, the intent's one
  // deadline), on the browser's monotonic clock, so a browser clock set wrong does not matter.
  document.querySelectorAll("[role=timer][data-remaining-ms]").forEach(function (timer) {
    var end = performance.now() + Number(timer.getAttribute("data-remaining-ms"));
    var reloaded = false;
    function show() {
      var left = Math.max(0, end - performance.now());
      var seconds = Math.ceil(left / 1000);
      timer.textContent = Math.floor(seconds / 60) + ":" + String(seconds % 60).padStart(2, "0");
      if (left <= 0 && !reloaded) {
        reloaded = true;
        // The server decides that the intent ended; ask it.
        setTimeout(goHome, 1000);
        return;
      }
      setTimeout(show, Math.min(1000, left % 1000 || 1000));
    }
    show();
  });

  // A waiting page: long-poll the server, which holds the API request, then show the page.
  var waiting = document.querySelector("main[data-wait]");
  if (waiting) {
    var url = waiting.getAttribute("data-wait");
    var poll = function () {
      fetch(url, { credentials: "same-origin", cache: "no-store" })
        .then(function (answer) { return answer.ok ? answer.json() : { done: false, failed: true }; })
        .then(function (state) {
          if (state.done) { goHome(); }
          else { setTimeout(poll, state.failed ? 1000 : 0); }
        })
        .catch(function () { setTimeout(poll, 1000); });
    };
    poll();
  }

  // One submit per form: a double click sends one request.
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-sent")) { event.preventDefault(); return; }
      form.setAttribute("data-sent", "1");
    });
  });
})();
