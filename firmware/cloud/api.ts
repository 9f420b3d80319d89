// The user's API on the device, in the spirit of Blynk's (reference blynk-edgent.md §8 "Outgoing API"):
// one object that outlives connections. While a session is up, calls go to it (rate-limited there);
// while offline they answer false and nothing is queued, because a stale value sent minutes later
// would overwrite a newer one set from the app.
// Published by main on the REPL object: edgent.virtualWrite(1, 42). Methods read `arguments`
// because Espruino has no rest parameters.
import { Cmd, MAX_BODY, join } from "./codec";

/** A live session's sender (the client rate-limits HARDWARE and friends); false when not sent. */
export type Send = (cmd: number, body: string) => boolean;

/**
 * A virtual pin number, or over MQTT a datastream's name ("Temperature"); there a pin number N stands
 * for the datastream named "VN" (../mqtt/session). The Blynk protocol knows pin numbers only.
 */
export type Pin = number | string;

export interface CloudApi {
  /** HARDWARE `vw\0pin\0values…`. True when sent or queued for sending. */
  virtualWrite(pin: Pin, ...values: any[]): boolean;
  /** Handler for writes from the app/cloud to a virtual pin (values as strings); undefined removes it. */
  onWrite(pin: Pin, fn: ((values: string[]) => void) | undefined): void;
  /** HARDWARE_SYNC `vr\0pins…`: the cloud answers with writes to those pins. No pins = sync all. */
  syncVirtual(...pins: Pin[]): boolean;
  /** EVENT_LOG `name[\0description]` (an event configured in the template). */
  logEvent(name: string, description?: string): boolean;
  /** "connected" after login (and the info message), "disconnected" when the session ends. */
  on(event: "connected" | "disconnected", fn: () => void): void;
}

var sender: Send | undefined;
var say: (line: string) => void = function () {};
var writes: { [pin: string]: (values: string[]) => void } = {};
var listeners: { [event: string]: (() => void)[] } = {};
var api: CloudApi | undefined;

function out(cmd: number, body: string): boolean {
  return !!sender && body.length <= MAX_BODY && sender(cmd, body);
}

function fire(event: string): void {
  var l = listeners[event];
  for (var i = 0; l && i < l.length; i++) {
    try {
      l[i]();
    } catch (e) {
      say("Error in " + event + " handler: " + e);
    }
  }
}

function virtualWrite(pin: Pin): boolean {
  return out(Cmd.HARDWARE, "vw\x00" + pin + (arguments.length > 1 ? "\x00" + join(arguments, 1) : ""));
}

function onWrite(pin: Pin, fn: ((values: string[]) => void) | undefined): void {
  if (fn) writes[pin] = fn;
  else delete writes[pin];
}

function syncVirtual(): boolean {
  return out(Cmd.HARDWARE_SYNC, arguments.length ? "vr\x00" + join(arguments, 0) : "");
}

function logEvent(name: string, description?: string): boolean {
  return out(Cmd.EVENT_LOG, description ? name + "\x00" + description : name);
}

function on(event: string, fn: () => void): void {
  (listeners[event] || (listeners[event] = [])).push(fn);
}

/** The API object (one per device); its methods are module functions, made once, never per call. */
export function cloudApi(): CloudApi {
  return api || (api = { virtualWrite: virtualWrite, onWrite: onWrite, syncVirtual: syncVirtual, logEvent: logEvent, on: on } as any);
}

/**
 * Called by the client: `up` with its sender once logged in, then down with the same sender when
 * the session ends. A down from a sender that is no longer current is ignored.
 */
export function apiLink(send: Send, up: boolean, log: (line: string) => void): void {
  say = log;
  if (up) {
    sender = send;
    fire("connected");
  } else if (sender === send) {
    sender = undefined;
    fire("disconnected");
  }
}

/** Called by the client for HARDWARE `vw\0pin\0values…` from the cloud. */
export function apiWrite(pin: string, values: string[]): void {
  var fn = writes[pin];
  if (!fn) return;
  try {
    fn(values);
  } catch (e) {
    say("Error in " + (+pin === +pin ? "V" : "") + pin + " handler: " + e); // a pin number, or a datastream name
  }
}

/** Forgets handlers and the current session (tests; a new client after a soft restart). */
export function apiReset(): void {
  sender = undefined;
  writes = {};
  listeners = {};
}
