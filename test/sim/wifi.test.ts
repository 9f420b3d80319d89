import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'mocha';
import { BEACON_LOSS_MS, DHCP_TIMEOUT_MS, NOT_FOUND_MS, SCAN_MS } from '../../sim/index.ts';
import { HOME, boot, lines, stopAll } from './fixture.ts';

const W = `var W = require("Wifi");
W.on("connected", function (d) { print("connected " + JSON.stringify(d)); });
W.on("disconnected", function (d) { print("disconnected " + JSON.stringify(d)); });
W.on("dhcp_timeout", function () { print("dhcp_timeout"); });
W.on("sta_joined", function (d) { print("sta_joined " + d.mac); });
W.on("sta_left", function (d) { print("sta_left " + d.mac); });
`;

describe('sim Wifi', () => {
  afterEach(stopAll);

  it('ESP32: a wrong password calls back "AUTH_FAIL" once, after 3 attempts, and stops trying', async () => {
    const sim = await boot(W + 'W.connect("HomeNet", {password: "nope"}, function (e) { print("cb " + e); });', { networks: [HOME] });
    await sim.advance(3 * 1500 - 1);
    assert.deepEqual(lines(sim, /^cb /), []);
    await sim.advance(30000);
    assert.deepEqual(lines(sim, /^cb /), ['cb AUTH_FAIL']);
    assert.deepEqual(lines(sim, /^disconnected/), ['disconnected {"ssid":"HomeNet","mac":"' + sim.world.get('HomeNet')!.bssid + '","reason":"202","msg":"AUTH_FAIL"}']);
  });

  it('ESP8266: a wrong password calls back "bad_password" once and the SDK keeps retrying', async () => {
    const sim = await boot(W + 'W.connect("HomeNet", {password: "nope"}, function (e) { print("cb " + e); });', { chip: 'ESP8266', networks: [HOME] });
    await sim.advance(30000);
    assert.deepEqual(lines(sim, /^cb /), ['cb bad_password']);
    assert.ok(lines(sim, /^disconnected .*4way_handshake_timeout/).length > 5, 'one disconnected event per background attempt');
  });

  it('reports a missing network as NO_AP_FOUND (ESP32) / no_ap_found (ESP8266)', async () => {
    const code = 'W.connect("Nowhere", {password: "whatever1"}, function (e) { print("cb " + e); });';
    const esp32 = await boot(W + code);
    const esp8266 = await boot(W + code, { chip: 'ESP8266' });
    await esp32.advance(3 * NOT_FOUND_MS);
    await esp8266.advance(NOT_FOUND_MS);
    assert.deepEqual(lines(esp32, /^cb /), ['cb NO_AP_FOUND']);
    assert.deepEqual(lines(esp8266, /^cb /), ['cb no_ap_found']);
    assert.match(lines(esp8266, /^disconnected/)[0], /"reason":"beacon_timeout"/, 'ESP8266 maps reason 201 one entry off');
  });

  it('connected event has netmask on ESP32 and mask on ESP8266', async () => {
    const code = 'W.connect("HomeNet", {password: "correct horse"}, function (e) { print("cb " + e); });';
    const esp32 = await boot(W + code, { networks: [HOME] });
    const esp8266 = await boot(W + code, { chip: 'ESP8266', networks: [HOME] });
    await esp32.advance(1500);
    await esp8266.advance(1500);
    assert.deepEqual(lines(esp32, /^(cb|connected)/), ['cb null', 'connected {"ip":"192.168.1.50","netmask":"255.255.255.0","gw":"192.168.1.1"}']);
    assert.deepEqual(lines(esp8266, /^(cb|connected)/), ['cb null', 'connected {"ip":"192.168.1.50","mask":"255.255.255.0","gw":"192.168.1.1"}']);
  });

  it('scan calls back with one array argument; the ESP32 channel is a string', async () => {
    const code = 'W.scan(function (a, b) { print(arguments.length + " " + JSON.stringify(a)); });';
    const esp32 = await boot(W + code, { networks: [HOME] });
    const esp8266 = await boot(W + code, { chip: 'ESP8266', networks: [HOME] });
    await esp32.advance(SCAN_MS);
    await esp8266.advance(SCAN_MS);
    const mac = esp32.world.get('HomeNet')!.bssid;
    assert.deepEqual(lines(esp32, /^1 /), [`1 [{"rssi":-48,"authMode":"wpa2","ssid":"HomeNet","mac":"${mac}","channel":"6"}]`]);
    assert.deepEqual(lines(esp8266, /^1 /), [`1 [{"rssi":-48,"channel":6,"authMode":"wpa2","isHidden":false,"ssid":"HomeNet","mac":"${mac}"}]`]);
  });

  it('throws "A scan is already in progress" for a second scan', async () => {
    const sim = await boot(W + 'W.scan(print);');
    assert.equal(sim.repl('W.scan(print)').message, 'A scan is already in progress');
  });

  it('startAP throws synchronously on a password shorter than 8 characters', async () => {
    const sim = await boot(W);
    assert.equal(sim.repl('W.startAP("X", {password: "short"})').message, 'Password must be string of at least 8 characters');
    assert.equal(sim.repl('W.startAP("X", {authMode: "wpa2"})').message, 'Password not set but authMode not open');
    assert.equal(sim.repl('W.startAP("X", {authMode: "open", password: "longenough"})').message, 'Auth mode set to open but password supplied');
  });

  it('an empty AP password throws on ESP32 but opens the AP on ESP8266', async () => {
    const code = 'W.startAP("Portal", {password: ""}, function (e) { print("ap " + e); });';
    const esp32 = await boot(W + code);
    const esp8266 = await boot(W + code, { chip: 'ESP8266' });
    await esp32.advance(100);
    await esp8266.advance(100);
    assert.ok(esp32.console.includes('Uncaught Error: Password must be string of at least 8 characters'));
    assert.equal(esp8266.wifi.apSsid(), 'Portal');
    assert.equal(esp8266.repl('W.getAPDetails().authMode'), 'open');
  });

  it('ESP32 setIP passes "Failure" to the callback on success (inverted)', async () => {
    const code = 'W.setIP({ip: "192.168.1.77", gw: "192.168.1.1", netmask: "255.255.255.0"}, function (e) { print("setIP " + e); });';
    const esp32 = await boot(W + code);
    const esp8266 = await boot(W + code, { chip: 'ESP8266' });
    await esp32.advance(0);
    await esp8266.advance(0);
    assert.ok(esp32.console.includes('setIP Failure'));
    assert.ok(esp8266.console.includes('setIP null'));
  });

  it('getIP is synchronous and reports 0.0.0.0 while not connected', async () => {
    const sim = await boot(W);
    assert.deepEqual(JSON.parse(sim.repl('JSON.stringify(W.getIP())')), { ip: '0.0.0.0', netmask: '0.0.0.0', gw: '0.0.0.0', mac: '24:0a:c4:12:34:56' });
    assert.equal(sim.repl('W.getAPIP().mac'), '24:0a:c4:12:34:57', 'AP MAC = STA MAC + 1');
  });

  it('moves the AP to the channel of the joined network, dropping its phones', async () => {
    const sim = await boot(W + 'W.startAP("Portal", {channel: 1});', { networks: [HOME] });
    await sim.advance(100);
    sim.stationJoin('aa:bb:cc:00:00:01');
    assert.equal(sim.wifi.ap()!.channel, 1);
    sim.repl('W.connect("HomeNet", {password: "correct horse"})');
    await sim.advance(2000);
    assert.equal(sim.wifi.ap()!.channel, 6);
    assert.ok(sim.console.includes('sta_left aa:bb:cc:00:00:01'));
    assert.ok(sim.wifi.log.some((c) => c.call === 'ap_channel'));
  });

  it('ESP32 reports a vanished network only once its remaining retries are used up', async () => {
    const sim = await boot(W + 'W.connect("HomeNet", {password: "correct horse"});', { networks: [HOME] });
    await sim.advance(2000);
    assert.equal(sim.wifi.staSsid(), 'HomeNet');
    sim.world.set('HomeNet', { up: false });
    await sim.advance(BEACON_LOSS_MS + 3 * NOT_FOUND_MS);
    assert.equal(sim.wifi.staSsid(), undefined);
    assert.deepEqual(lines(sim, /^disconnected/).map((l) => JSON.parse(l.slice(13)).msg), ['NO_AP_FOUND']);
    assert.equal(sim.repl('W.getStatus().station'), 'NO_AP_FOUND');
  });

  it('a network without DHCP: ESP8266 emits dhcp_timeout, ESP32 never calls back', async () => {
    const net = { ...HOME, dhcp: false };
    const code = 'W.connect("HomeNet", {password: "correct horse"}, function (e) { print("cb " + e); });';
    const esp32 = await boot(W + code, { networks: [net] });
    const esp8266 = await boot(W + code, { chip: 'ESP8266', networks: [net] });
    await esp32.advance(DHCP_TIMEOUT_MS + 2000);
    await esp8266.advance(DHCP_TIMEOUT_MS + 2000);
    assert.deepEqual(lines(esp32, /^cb|^connected|^dhcp/), []);
    assert.equal(esp32.repl('W.getStatus().station'), 'connected', 'associated counts as connected on ESP32');
    assert.deepEqual(lines(esp8266, /^cb|^connected|^dhcp/), ['dhcp_timeout']);
  });

  it('Wifi.save writes .wificfg and the chip restores it after the JS boot code', async () => {
    const first = await boot(W + 'W.connect("HomeNet", {password: "correct horse"}, function () { W.save(); });', { networks: [HOME] });
    await first.advance(2000);
    assert.equal(JSON.parse(first.storage.read('.wificfg')!).ssid, 'HomeNet');
    first.repl('E.reboot()');
    await first.advance(2000);
    assert.equal(first.bootCount, 2);
    assert.equal(first.wifi.staSsid(), 'HomeNet', 'reconnected without any JS connect()');
  });

  it('a fresh ESP8266 boots with the SDK\'s open ESP_XXXXXX access point, until stopAP()', async () => {
    const sim = await boot(W, { chip: 'ESP8266' });
    assert.equal(sim.wifi.apSsid(), 'ESP_010204');
    sim.repl('W.stopAP()');
    assert.equal(sim.wifi.apRunning(), false);
    const again = await boot(W, { chip: 'ESP8266', storage: sim.storage.image() });
    assert.equal(again.wifi.apRunning(), false, 'the SDK persisted opmode');
  });

  it('stationJoin emits sta_joined and refuses a fifth phone', async () => {
    const sim = await boot(W + 'W.startAP("Portal");');
    await sim.advance(100);
    for (let i = 1; i <= 4; i++) assert.equal(sim.stationJoin(`aa:bb:cc:00:00:0${i}`), true);
    assert.equal(sim.stationJoin('aa:bb:cc:00:00:05'), false);
    await sim.advance(0);
    assert.equal(lines(sim, /^sta_joined/).length, 4);
  });
});
