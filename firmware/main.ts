// Entry point: boots the state machine and publishes the REPL object `edgent`.
import { bootEdgent } from "./edgent";
import { cloudApi } from "./cloud/api";
import { publish } from "./platform/espruino";

var api = bootEdgent();
var user = cloudApi();
for (var k in user) api[k] = (user as any)[k];
publish("edgent", api);
