// The part of mocha's API the e2e suite uses. @types/mocha is not a devDependency, and the project's
// tsconfig type-checks test/**: these declarations keep `npm run typecheck` green.
declare module 'mocha' {
  interface MochaOptions {
    ui?: string;
    timeout?: number;
    color?: boolean;
    reporter?: string | (new (...args: unknown[]) => unknown);
    grep?: string | RegExp;
  }
  interface Test {
    title: string;
    fullTitle(): string;
    duration?: number;
  }
  interface Runner {
    on(ev: 'pass' | 'pending', fn: (t: Test) => void): this;
    on(ev: 'fail', fn: (t: Test, err: Error) => void): this;
    on(ev: 'end', fn: () => void): this;
    on(ev: string, fn: (...a: any[]) => void): this;
  }
  class Mocha {
    constructor(opts?: MochaOptions);
    addFile(file: string): this;
    run(done?: (failures: number) => void): Runner;
  }
  export = Mocha;
}

declare function describe(title: string, fn: (this: MochaContext) => void): void;
declare function it(title: string, fn: (this: MochaContext) => Promise<unknown> | void): void;
declare function before(fn: (this: MochaContext) => Promise<unknown> | void): void;
declare function after(fn: (this: MochaContext) => Promise<unknown> | void): void;
declare function afterEach(fn: (this: MochaContext) => Promise<unknown> | void): void;
interface MochaContext {
  timeout(ms: number): void;
}
