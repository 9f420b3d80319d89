// Pin panel for the real-interpreter backend of the system tests (test/system/device.ts, boot option
// `pins`): the chip's GPIOs as the firmware sees them through Espruino's pin functions, added to
// either prelude (RealDeviceOptions.extraPrelude). The LINUX build has no pins of its own (its
// getPinMode says "Invalid pin" for every number), and the full prelude's recorders neither debounce
// a watch nor know the chip's pin table, so this replaces pinMode, getPinMode, digitalWrite,
// digitalRead, analogWrite, analogRead, setWatch and clearWatch with a model of the chip, after the
// simulator's (sim/pins.ts):
//  - pins D0..D39 (ESP32) or D0..D16 and A0 (ESP8266), "Invalid pin" for any other;
//  - levels are physical: the classic ESP32 build negates D0 (__P_neg0__), so a write of 1 to it
//    drives it low and an idle (pulled-up) BOOT button on it reads 0;
//  - ADC on ESP32's GPIO32..39 and ESP8266's A0, NaN elsewhere;
//  - automatic modes: a write makes a pin an output unless pinMode() set it, a read of such an output
//    makes it an input again;
//  - setWatch with Espruino's debounce: an edge is reported once the level has been stable for the
//    debounce time, stamped with the time of the edge that started that stable period.
// It prints, for the harness: every write, "@@PW <pin> <d|a|x> <value> <ms> [<due>]" (physical level,
// PWM duty, or WS2812 bytes as a JSON array; ms = Math.floor(getTime() * 1000); due: see the timers
// below); each timer run more than 10 ms late, "@@LATE <due ms> <late ms>"; its own start, "@@PANEL";
// and for each console line the firmware prints with its clock ("[ms] ..."), "@@CLOCK <ms>": getTime()
// in ms at the firmware's 0 ms, which puts the writes on the firmware's clock.
// For the harness (through eval): __pn.set(pin, level) drives an input, __pn.a[pin] = v an analog
// input, __pn.mode(pin) reads the mode, __pn.level(pin) the level, __pn.keep() carries the input
// levels over the next load() (a soft reset keeps what is wired to the pins).
//
// ES5 for Espruino, and frugal for the 1600-JsVar model: functions at the top level that read
// `arguments`, state in one object, settings written into the text by the harness (the __P_ tokens).
global.__pn = { m: {}, u: {}, l: {}, i: {}, a: {}, w: [] };
print("@@PANEL");
// the pin number of a pin argument (a number, "D5", "A0"), or -1
__pn.p = function () {
  var x = arguments[0];
  if (typeof x === "string") x = x === "A0" && __P_pins__ === 18 ? 17 : x[0] === "D" && /^D[0-9]+$/.test(x) ? +x.substr(1) : -1;
  return typeof x === "number" && x >= 0 && x < __P_pins__ && x === Math.floor(x) ? x : -1;
};
// the pin number, or throws Espruino's error (arguments[1]: its text)
__pn.q = function () {
  var p = __pn.p(arguments[0]);
  if (p < 0) throw new Error(arguments[1] || "Invalid pin!");
  return p;
};
__pn.mode = function () {
  var p = __pn.q(arguments[0], "Invalid pin");
  return __pn.m[p] || (__P_pins__ === 40 ? "input_pullup" : "input");
};
// physical level: an output drives its latch, an input reads what is wired to it (default: pulled up,
// but ESP8266's GPIO15 and GPIO16 read low)
__pn.level = function () {
  var p = __pn.q(arguments[0]);
  if (/output|opendrain/.test(__pn.mode(p))) return __pn.l[p] || 0;
  return __pn.i[p] !== undefined ? __pn.i[p] : __P_pins__ === 18 && (p === 15 || p === 16) ? 0 : 1;
};
// records a write: (pin, kind, physical value); a pin that pinMode() made an input drives nothing
__pn.rec = function () {
  var p = arguments[0];
  if (!__pn.u[p]) __pn.m[p] = "output";
  if (!/output|opendrain/.test(__pn.mode(p))) return;
  print("@@PW " + p + " " + arguments[1] + " " + (arguments[1] === "x" ? JSON.stringify(arguments[2]) : arguments[2]) + " " + Math.floor(getTime() * 1000) +
    (__pn.due === undefined ? "" : " " + __pn.due));
};
global.getPinMode = function () { return __pn.mode(arguments[0]); };
global.pinMode = function () {
  var p = __pn.q(arguments[0], "Invalid pin"), m = arguments[1];
  if (m === undefined || m === "auto") { __pn.u[p] = 0; return; }
  if (["input", "input_pullup", "input_pulldown", "output", "opendrain", "opendrain_pullup", "analog", "af_output", "af_opendrain"].indexOf(m) < 0) throw new Error("Unknown pin mode");
  __pn.u[p] = !arguments[2];
  __pn.m[p] = m;
};
global.digitalWrite = function () {
  var p = __pn.q(arguments[0]), v = (arguments[1] ? 1 : 0) ^ (p === 0 ? __P_neg0__ : 0);
  __pn.l[p] = v;
  __pn.rec(p, "d", v);
};
global.digitalRead = function () {
  var p = __pn.q(arguments[0]);
  if (!__pn.u[p] && __pn.m[p] === "output") __pn.m[p] = undefined;
  return __pn.level(p) ^ (p === 0 ? __P_neg0__ : 0);
};
global.analogWrite = function () {
  var p = __pn.q(arguments[0]), v = +arguments[1];
  if (p === 0 && __P_neg0__) v = 1 - v;
  v = v >= 0 ? (v > 1 ? 1 : v) : 0;
  __pn.l[p] = v >= 0.5 ? 1 : 0;
  __pn.rec(p, "a", v);
};
global.analogRead = function () {
  var p = __pn.q(arguments[0]);
  return (__P_pins__ === 40 ? p >= 32 && p <= 39 : p === 17) ? __pn.a[p] || 0 : NaN;
};
// watches: {f: callback, p: pin, e: edge (1 rising, -1 falling, 0 both), r: repeat, d: debounce ms,
// s: debounced logical level, t: debounce timer, g: time of the edge that started it, x: last time}
global.setWatch = function () {
  var o = arguments[2] || {}, p = __pn.q(arguments[1], "Invalid pin"), e = o.edge;
  e = e === "rising" || e === 1 ? 1 : e === "falling" || e === -1 ? -1 : 0;
  __pn.w.push({ f: arguments[0], p: p, e: e, r: !!o.repeat, d: o.debounce > 0 ? o.debounce : 0, s: __pn.level(p) ^ (p === 0 ? __P_neg0__ : 0) });
  return __pn.w.length;
};
global.clearWatch = function () {
  if (!arguments.length) __pn.w = [];
  else __pn.w[arguments[0] - 1] = 0;
};
// a watch reports its level if it changed: (watch index, level, time in s)
__pn.fire = function () {
  var w = __pn.w[arguments[0]], v = arguments[1], t = arguments[2];
  if (!w) return;
  w.t = undefined;
  if (v === w.s) return;
  w.s = v;
  if (w.e === 0 || (w.e === 1) === !!v) {
    if (!w.r) __pn.w[arguments[0]] = 0;
    w.f({ state: !!v, time: t, lastTime: w.x, pin: w.p });
  }
  w.x = t;
};
// the harness drives an input to a physical level: (pin, level)
__pn.set = function () {
  var p = __pn.q(arguments[0]), was = __pn.level(p), i, w, v, t = getTime();
  __pn.i[p] = arguments[1] ? 1 : 0;
  if (__pn.level(p) === was) return;
  v = __pn.level(p) ^ (p === 0 ? __P_neg0__ : 0);
  for (i = 0; i < __pn.w.length; i++) {
    w = __pn.w[i];
    if (!w || w.p !== p) continue;
    if (w.t !== undefined) clearTimeout(w.t);
    w.t = undefined;
    if (!w.d) __pn.fire(i, v, t);
    else if (v !== w.s) {
      w.g = t;
      w.t = setTimeout(function (j) { __pn.fire(j, __pn.level(__pn.w[j].p) ^ (__pn.w[j].p === 0 ? __P_neg0__ : 0), __pn.w[j].g); }, w.d, i);
    }
  }
};
// drives an input to a level for some ms, then back: (pin, level, ms), timed on the device
__pn.pulse = function () {
  var p = __pn.q(arguments[0]), was = __pn.i[p];
  if (was === undefined) was = __P_pins__ === 18 && (p === 15 || p === 16) ? 0 : 1;
  // the release timer first: should the device run late, it still comes before the debounce timer
  // the press starts (a glitch shorter than the debounce is never a press)
  setTimeout(function () { __pn.set(p, was); }, arguments[2]);
  __pn.set(p, arguments[1]);
};
__pn.keep = function () {
  require("Storage").writeJSON(".pinsin", __pn.i);
};
// input levels carried over a soft reset
__pn.i = require("Storage").readJSON(".pinsin", true) || {};
if (require("Storage").read(".pinsin") !== undefined) require("Storage").erase(".pinsin");
if (__P_pixel__) {
  Modules.addCached("neopixel", ";");
  require("neopixel").write = function () {
    var d = arguments[1], a = [], i;
    for (i = 0; i < d.length; i++) a.push(d[i] & 255);
    __pn.rec(__pn.q(arguments[0]), "x", a);
  };
}
// Timers the interpreter runs late: when the host does not give it the CPU in time (a busy machine),
// every timer due meanwhile runs late, and the LED's timing with them. Each timer run more than 10 ms
// after it was due prints "@@LATE <due ms> <late ms>", so the harness can tell a late interpreter from
// a late firmware; and a write made in a timer's callback carries the time that timer was due: when
// the firmware meant it to happen, however late the host let it run. (The wrappers pass on the extra
// arguments and return the native timer's id.)
__pn.st = setTimeout;
__pn.si = setInterval;
global.setTimeout = function () {
  var a = arguments, f = a[0], x = a.slice(2), due = Math.floor(getTime() * 1000) + (a[1] > 0 ? Math.floor(a[1]) : 0);
  a[0] = function () {
    var l = Math.floor(getTime() * 1000) - due, was = __pn.due;
    if (l > 10) print("@@LATE " + due + " " + l);
    __pn.due = due;
    try { if (typeof f === "function") f.apply(undefined, x); } finally { __pn.due = was; }
  };
  return __pn.st.apply(undefined, a);
};
global.setInterval = function () {
  var a = arguments, f = a[0], x = a.slice(2), ms = a[1] > 0 ? a[1] : 0, due = getTime() * 1000;
  a[0] = function () {
    due += ms;
    var l = Math.floor(getTime() * 1000 - due), was = __pn.due;
    if (l > 10) print("@@LATE " + Math.floor(due) + " " + l);
    __pn.due = Math.floor(due);
    try { if (typeof f === "function") f.apply(undefined, x); } finally { __pn.due = was; }
  };
  return __pn.si.apply(undefined, a);
};
// the firmware's clock: each "[ms] ..." line it prints gives getTime() in ms at its 0 ms, a little
// late by the time the line took to build (the harness takes the smallest)
__pn.log = console.log;
console.log = function () {
  var s = arguments[0];
  if (typeof s === "string" && s[0] === "[" && s.indexOf("]") > 1) print("@@CLOCK " + (Math.floor(getTime() * 1000) - parseInt(s.substr(1), 10)));
  __pn.log.apply(console, arguments);
};
