// The portal hammered for a few seconds of device time (see hammer.ts; hammer.soak.ts runs a minute).
import { describeHammer } from "./hammer.ts";

describeHammer({ ms: 6000, configAt: [1100, 3700] });
