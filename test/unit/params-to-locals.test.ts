// The build step that reads a function's parameters from `arguments` (scripts/params-to-locals.js):
// Espruino keeps every declared parameter as a JsVar for as long as the function exists.
import assert from "node:assert/strict";
import { paramsToLocals } from "../../scripts/params-to-locals.js";

const run = (code: string): unknown => new Function(code + "\nreturn main();")();

describe("params-to-locals (build step)", function () {
  it("moves a top-level function's parameters into locals read from arguments", function () {
    const out = paramsToLocals("function add(a,b){return a+b}");
    assert.equal(out, "function add(){var a=arguments[0],b=arguments[1];return a+b}");
  });

  it("leaves functions inside functions alone (Espruino would find the outer call's arguments)", function () {
    const out = paramsToLocals("function outer(x){return function inner(y){return x+y}}");
    assert.match(out, /function outer\(\)\{var x=arguments\[0\];/);
    assert.match(out, /function inner\(y\)/);
  });

  it("leaves functions that read arguments themselves alone", function () {
    const src = "function f(a){return arguments.length+a}";
    assert.equal(paramsToLocals(src), src);
  });

  it("keeps what the code does: missing arguments, assigned parameters, callbacks, methods", function () {
    const src =
      "var o={m:function(n){n=n*2;return n}};" +
      "function pad(s,w){if(w===undefined)w=3;while(s.length<w)s='0'+s;return s}" +
      "function each(list,fn){var r=[];for(var i=0;i<list.length;i++)r.push(fn(list[i],i));return r}" +
      "function main(){return [o.m(21),pad('7'),pad('7',5),each([1,2],function(v,i){return v*10+i}).join()].join(' ')}";
    const out = paramsToLocals(src);
    assert.notEqual(out, src);
    assert.equal(run(out), run(src));
    assert.equal(run(out), "42 007 00007 10,21");
  });
});
