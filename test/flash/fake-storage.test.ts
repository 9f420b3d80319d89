// The fake's Storage must be as strict as the chip's, or tests against it prove little.
import assert from "node:assert/strict";
import { FakeStorage } from "./fake-espruino.ts";

describe("fake Storage keeps the chip's rules", () => {
  it("truncates names to 28 bytes silently", () => {
    const s = new FakeStorage(4096);
    s.write("a".repeat(30), "x");
    assert.deepEqual(s.list(), ["a".repeat(28)]);
  });

  it("refuses to create a zero-length file", () => {
    assert.throws(() => new FakeStorage(4096).write("f", ""), /Can't create zero length file/);
  });

  it("writes at an offset only into still-erased bytes", () => {
    const s = new FakeStorage(4096);
    s.write("f", "ab", 0, 4);
    s.write("f", "cd", 2);
    assert.equal(s.read("f"), "abcd");
    assert.throws(() => s.write("f", "zz", 1), /File already written with different data/);
  });

  it("refuses data beyond the declared size", () => {
    const s = new FakeStorage(4096);
    s.write("f", "ab", 0, 3);
    assert.throws(() => s.write("f", "cd", 2), /Too much data for file size/);
  });

  it("counts a 32-byte header and 4-byte alignment per file", () => {
    const s = new FakeStorage(4096);
    s.write("f", "abcde");
    assert.equal(s.getFree(), 4096 - 32 - 8);
  });

  it("reports a full Storage as Unable to find or create file", () => {
    const s = new FakeStorage(1024);
    assert.throws(() => s.write("big", "x".repeat(1000)), /Unable to find or create file/);
  });

  it("reuses a rewritten file's space after compaction", () => {
    const s = new FakeStorage(1024);
    s.write("f", "x".repeat(900));
    s.write("f", "y".repeat(900));
    assert.equal(s.read("f"), "y".repeat(900));
  });
});
