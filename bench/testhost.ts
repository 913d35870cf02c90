// A generated libvirt test-driver host (served by libvirtd as test+unix:///abs/path/node.xml), shared by
// the benchmarks (bench/inventory.ts: 1,000 domains in three states; bench/sampler.ts: 100 running).

/** libvirt test-driver node XML (see libvirt docs/drvtest.rst): `test:runstate` sets each domain's state. */
export function testNodeXml(n: number, states: readonly number[] = [1, 3, 5] /* running, paused, shut off */): string {
  const doms: string[] = [];
  for (let i = 0; i < n; i++) {
    const st = states[i % states.length];
    const vcpus = 1 + (i % 4);
    const memKiB = 262144 * (1 + (i % 8));
    doms.push(
      `  <domain type="test" xmlns:test="http://libvirt.org/schemas/domain/test/1.0">` +
        `<name>bench-${String(i).padStart(4, '0')}</name>` +
        `<memory unit="KiB">${memKiB}</memory><currentMemory unit="KiB">${memKiB / 2}</currentMemory>` +
        `<vcpu>${vcpus}</vcpu><os><type>hvm</type></os>` +
        `<devices><interface type="network"><source network="default"/></interface></devices>` +
        `<test:runstate>${st}</test:runstate></domain>`,
    );
  }
  return [
    '<?xml version="1.0"?>',
    '<node>',
    ...doms,
    '  <cpu><mhz>3000</mhz><model>bench</model><active>16</active><nodes>1</nodes><sockets>1</sockets><cores>8</cores><threads>2</threads></cpu>',
    '  <memory>67108864</memory>',
    '</node>',
    '',
  ].join('\n');
}
