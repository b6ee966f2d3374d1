// The admin's clock widget offers "6 a.m." and "6 p.m."; organisers use the 24-hour clock (netroots/formats).
// DateTimeShortcuts.clockHours is Django's documented way to change those choices; it reads them on page load,
// after this deferred script has run.
"use strict";
if (window.DateTimeShortcuts) {
  window.DateTimeShortcuts.clockHours.default_ = [
    ["Now", -1],
    ["00:00", 0],
    ["06:00", 6],
    ["09:00", 9],
    ["12:00", 12],
    ["18:00", 18],
  ];
}
