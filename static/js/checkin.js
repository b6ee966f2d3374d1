// The door's check-in page (templates/admin/tickets/ticket/check_in.html), made better where the browser can:
// - the count "checked in N of M sold" refreshes itself while the page is open (other doors check people in too);
// - where the browser reads QR codes from its camera (BarcodeDetector and getUserMedia), a button scans a
//   ticket's QR code (its full reference: tickets/templatetags/qr.py) and sends it like a typed code.
// Without this script, or without a camera, the page works the same by typing the code and pressing the button.
"use strict";
(() => {
  const COUNT_EVERY_MS = 15000;
  const SCAN_EVERY_MS = 200;
  const SAME_CODE_IGNORED_MS = 8000; // the ticket just checked in is probably still in front of the camera
  const SCANNING = "checkin-scanning"; // sessionStorage: the camera was on, so turn it on again after a result
  const LAST_CODE = "checkin-last-code";

  // --- the live count ---
  const count = document.querySelector("[data-checkin-count]");
  if (count && window.fetch) {
    const refreshCount = async () => {
      if (document.hidden) return;
      try {
        const response = await fetch(count.dataset.countUrl, {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
          cache: "no-store",
        });
        if (!response.ok) return;
        const figures = await response.json();
        count.querySelector("[data-checked-in]").textContent = figures.checked_in;
        count.querySelector("[data-sold]").textContent = figures.sold;
      } catch {
        // offline for a moment: the next refresh, or the next check-in's page, brings the count
      }
    };
    window.setInterval(refreshCount, COUNT_EVERY_MS);
    document.addEventListener("visibilitychange", refreshCount);
  }

  // --- scanning with the camera ---
  const scanner = document.querySelector("[data-checkin-scanner]");
  const form = document.querySelector("[data-checkin-form]");
  const canScan =
    scanner && form && "BarcodeDetector" in window && navigator.mediaDevices && navigator.mediaDevices.getUserMedia;
  if (!canScan) return;

  const input = form.querySelector("input[name=reference]");
  const startButton = scanner.querySelector("[data-scan-start]");
  const stopButton = scanner.querySelector("[data-scan-stop]");
  const camera = scanner.querySelector("[data-scan-camera]");
  const video = scanner.querySelector("[data-scan-video]");
  const status = scanner.querySelector("[data-scan-status]");
  let stream = null;
  let timer = null;

  const say = (text) => {
    status.textContent = text;
  };

  const stop = () => {
    window.clearTimeout(timer);
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    video.srcObject = null;
    camera.hidden = true;
    startButton.hidden = false;
  };

  const recentlySent = (code) => {
    try {
      const last = JSON.parse(sessionStorage.getItem(LAST_CODE) || "null");
      return last && last.code === code && Date.now() - last.at < SAME_CODE_IGNORED_MS;
    } catch {
      return false;
    }
  };

  const send = (code) => {
    sessionStorage.setItem(LAST_CODE, JSON.stringify({ code, at: Date.now() }));
    input.value = code;
    say("Checking the ticket…");
    stop();
    if (form.requestSubmit) form.requestSubmit();
    else form.submit();
  };

  const watch = (detector) => {
    const look = async () => {
      if (!stream) return;
      try {
        if (video.readyState >= video.HAVE_CURRENT_DATA) {
          const found = (await detector.detect(video)).map((code) => code.rawValue.trim()).filter(Boolean);
          const code = found.find((value) => !recentlySent(value));
          if (code) {
            send(code);
            return;
          }
        }
      } catch {
        // a frame the detector could not read: try the next one
      }
      timer = window.setTimeout(look, SCAN_EVERY_MS);
    };
    look();
  };

  const start = async (detector) => {
    say("Starting the camera…");
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false });
    } catch (error) {
      sessionStorage.removeItem(SCANNING);
      const blocked = error && error.name === "NotAllowedError";
      say(
        blocked
          ? "The camera is blocked for this page: allow it in the browser’s settings, or type the code below."
          : "No camera could be started: type the code below."
      );
      return;
    }
    sessionStorage.setItem(SCANNING, "on");
    if (document.activeElement === input) input.blur(); // a phone's keyboard would cover the camera
    video.srcObject = stream;
    camera.hidden = false;
    startButton.hidden = true;
    try {
      await video.play();
    } catch {
      // autoplay refused: the muted, inline video normally plays; the detector waits for frames either way
    }
    say("Hold the ticket’s QR code in front of the camera.");
    watch(detector);
  };

  window.BarcodeDetector.getSupportedFormats()
    .then((formats) => {
      if (!formats.includes("qr_code")) return;
      const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      scanner.hidden = false;
      startButton.addEventListener("click", () => start(detector));
      stopButton.addEventListener("click", () => {
        sessionStorage.removeItem(SCANNING);
        stop();
        say("Camera off. Scan again, or type the code below.");
        startButton.focus();
      });
      window.addEventListener("pagehide", stop);
      if (sessionStorage.getItem(SCANNING) === "on") start(detector); // straight on to the next person
    })
    .catch(() => {
      // no QR codes here after all: typing the code is the way
    });
})();
