/** Bad hyperparameters are ValueErrors whose messages name the function, the option, the expectation and the value. */
import { ValueError, np } from "@cotangent/core";
import * as optim from "@cotangent/optim";
import { describe, expect, it } from "vitest";

const OPTIMIZERS = ["sgd", "adam", "adamw", "adamax", "nadam", "amsgrad", "radam", "rmsprop", "adagrad", "adadelta", "lion", "lamb", "lars", "yogi", "adabelief"] as const;
const make = (name: (typeof OPTIMIZERS)[number], o: unknown) => (optim as any)[name](o);
const LR = "a finite number >= 0, a scalar array or a schedule \\(step => value\\)";

describe("learning rates", () => {
  for (const name of OPTIMIZERS) {
    it(`${name}: negative, infinite and NaN learning rates are errors; zero, arrays and schedules are not`, () => {
      for (const bad of [-1, Infinity, NaN]) {
        expect(() => make(name, { learningRate: bad })).toThrow(ValueError);
        expect(() => make(name, { learningRate: bad })).toThrow(new RegExp(`^optim.${name}: option learningRate must be ${LR}, got ${bad}`));
      }
      expect(() => make(name, { learningRate: np.ones([2]) })).toThrow(/got an array of shape \[2\]/);
      for (const ok of [0, 1e-3, np.array(0.1), optim.constant(0.1)]) expect(() => make(name, { learningRate: ok })).not.toThrow();
    });
  }

  it("is required (except by adadelta), with an example in the hint", () => {
    expect(() => optim.adam({} as any)).toThrow(/optim.adam: option learningRate is required \(a finite number >= 0.*\)[\s\S]*hint: e.g. optim.adam\(\{ learningRate: 1e-3 \}\)/);
    expect(() => optim.adadelta()).not.toThrow();
  });

  it("misspelt and misplaced options are caught", () => {
    expect(() => optim.adam({ learningrate: 1e-3 } as any)).toThrow(/optim.adam: unknown option 'learningrate' \(known options: learningRate, b1, b2, eps, epsRoot, nesterov\)[\s\S]*hint: did you mean 'learningRate'\?/);
    expect(() => optim.adam(1e-3 as any)).toThrow(/optim.adam: expects an options object, got 0.001/);
    expect(() => optim.sgd({ learningRate: 0.1, weightDecay: 0.1 } as any)).toThrow(/optim.sgd: unknown option 'weightDecay'/);
  });
});

describe("other hyperparameters", () => {
  const cases: [string, () => unknown, RegExp][] = [
    ["b1 = 1", () => optim.adam({ learningRate: 1e-3, b1: 1 }), /optim.adam: option b1 must be a number in \[0, 1\) \(or a scalar array\), got 1$/m],
    ["b1 < 0", () => optim.adamw({ learningRate: 1e-3, b1: -0.1 }), /optim.adamw: option b1 must be a number in \[0, 1\) \(or a scalar array\), got -0.1/],
    ["b2 > 1", () => optim.lamb({ learningRate: 1e-3, b2: 1.5 }), /optim.lamb: option b2 must be a number in \[0, 1\) \(or a scalar array\), got 1.5/],
    ["eps < 0", () => optim.yogi({ learningRate: 1e-3, eps: -1e-8 }), /optim.yogi: option eps must be a finite number >= 0 \(or a scalar array\), got -1e-8/],
    ["nesterov not boolean", () => optim.sgd({ learningRate: 1e-3, momentum: 0.9, nesterov: "yes" as any }), /optim.sgd: option nesterov must be true or false, got "yes"/],
    ["momentum < 0", () => optim.sgd({ learningRate: 1e-3, momentum: -0.9 }), /optim.sgd: option momentum must be a finite number >= 0/],
    ["decay = 1", () => optim.rmsprop({ learningRate: 1e-3, decay: 1 }), /optim.rmsprop: option decay must be a number in \[0, 1\)/],
    ["radam threshold < 4", () => optim.radam({ learningRate: 1e-3, threshold: 3 }), /optim.radam: option threshold must be a number >= 4 \(or a scalar array\), got 3/],
    ["weightDecay < 0", () => optim.adamw({ learningRate: 1e-3, weightDecay: -1 }), /optim.adamw: option weightDecay must be a finite number >= 0/],
    ["mask of the wrong kind", () => optim.adamw({ learningRate: 1e-3, mask: 3 as any }), /optim.adamw: option mask must be a pytree of booleans or a function params => pytree of booleans, got 3/],
    ["trustCoefficient < 0", () => optim.lars({ learningRate: 1e-3, trustCoefficient: -1 }), /optim.lars: option trustCoefficient must be a finite number >= 0/],
    ["rho = 1", () => optim.adadelta({ rho: 1 }), /optim.adadelta: option rho must be a number in \[0, 1\)/],
    ["clip < 0", () => optim.clip(-1), /optim.clip: argument maxDelta must be a finite number >= 0 \(or a scalar array\), got -1/],
    ["clipByGlobalNorm 0", () => optim.clipByGlobalNorm(0), /optim.clipByGlobalNorm: argument maxNorm must be a finite number > 0 \(or a scalar array\), got 0/],
    ["scale NaN", () => optim.scale(NaN), /optim.scale: argument stepSize must be a finite number \(or a scalar array\), got NaN/],
    ["ema decay 1", () => optim.ema(1), /optim.ema: argument decay must be a number in \[0, 1\)/],
    ["trace decay < 0", () => optim.trace(-0.5), /optim.trace: argument decay must be a finite number >= 0/],
    ["multiSteps everyK 0", () => optim.multiSteps(optim.sgd({ learningRate: 1 }), 0), /optim.multiSteps: argument everyK must be an integer >= 1, got 0/],
    ["multiSteps everyK 1.5", () => optim.multiSteps(optim.sgd({ learningRate: 1 }), 1.5), /argument everyK must be an integer >= 1, got 1.5/],
    ["applyIfFinite negative", () => optim.applyIfFinite(optim.sgd({ learningRate: 1 }), -1), /optim.applyIfFinite: argument maxConsecutiveErrors must be an integer >= 0, got -1/],
    ["masked with a factory", () => optim.masked(optim.adam as any, {}), /optim.masked: argument inner must be a gradient transformation \(an object with init and update functions\), got a function/],
    ["partition with a non-transform", () => optim.partition({ a: 3 as any }, {}), /optim.partition: argument transforms.a must be a gradient transformation/],
    ["injectHyperparams of a non-function", () => optim.injectHyperparams(3 as any)({}), /optim.injectHyperparams: expects an optimizer factory such as optim.adam, got 3/],
    ["scaleByLearningRate flipSign", () => optim.scaleByLearningRate(0.1, { flipSign: 1 as any }), /optim.scaleByLearningRate: option flipSign must be true or false, got 1/],
    ["scaleByAdam directly", () => optim.scaleByAdam({ b2: 2 }), /optim.scaleByAdam: option b2 must be a number in \[0, 1\)/],
  ];
  for (const [what, f, msg] of cases) {
    it(what, () => {
      expect(f).toThrow(ValueError);
      expect(f).toThrow(msg);
    });
  }

  it("errors point at the caller's line", () => {
    try {
      optim.adam({ learningRate: -1 });
      expect.unreachable();
    } catch (e) {
      expect((e as ValueError).source).toMatch(/validate\.test\.ts:\d+/);
    }
  });
});
