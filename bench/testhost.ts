// A generated libvirt test-driver host (served by libvirtd as test+unix:///abs/path/node.xml), shared by
// the benchmarks (bench/inventory.ts: 1,000 domains in three states; bench/sampler.ts: 100 running;
// bench/host-objects.ts: the same with snapshots, storage pools with volumes, and networks).

/** What a generated host holds beside its domains. */
export interface HostObjects {
  /** Snapshots per domain: a chain, the last one current. */
  readonly snapshots: number;
  readonly pools: number;
  readonly volumesPerPool: number;
  readonly networks: number;
}

/** A chain of `n` snapshots inside a test domain (`test:domainsnapshot`, as libvirt saves them). */
function snapshotsXml(n: number): string {
  let out = '';
  for (let s = 0; s < n; s++) {
    const parent = s ? `<parent><name>snap-${s - 1}</name></parent>` : '';
    out +=
      `<test:domainsnapshot><name>snap-${s}</name><description>bench snapshot ${s}</description>` +
      `<creationTime>${1_700_000_000 + s * 3600}</creationTime><state>shutoff</state>${parent}` +
      `<active>${s === n - 1 ? 1 : 0}</active></test:domainsnapshot>`;
  }
  return out;
}

function poolsXml(pools: number, volumes: number): string[] {
  const out: string[] = [];
  for (let p = 0; p < pools; p++) {
    const dir = `/bench/pool-${p}`;
    let vols = '';
    for (let v = 0; v < volumes; v++) {
      vols +=
        `<volume type="file"><name>vol-${v}.qcow2</name><capacity unit="MiB">${1024 + v}</capacity><allocation unit="MiB">${v}</allocation>` +
        `<target><path>${dir}/vol-${v}.qcow2</path><format type="qcow2"/></target></volume>`;
    }
    out.push(`  <pool type="dir"><name>pool-${p}</name><target><path>${dir}</path></target>${vols}</pool>`);
  }
  return out;
}

function networksXml(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const net = `10.${100 + (i >> 8)}.${i & 255}`;
    out.push(
      `  <network><name>net-${i}</name><bridge name="vbench${i}"/><forward mode="nat"/>` +
        `<ip address="${net}.1" netmask="255.255.255.0"><dhcp><range start="${net}.2" end="${net}.254"/></dhcp></ip></network>`,
    );
  }
  return out;
}

/** libvirt test-driver node XML (see libvirt docs/drvtest.rst): `test:runstate` sets each domain's state. */
export function testNodeXml(n: number, states: readonly number[] = [1, 3, 5] /* running, paused, shut off */, objects?: HostObjects): string {
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
        `<test:runstate>${st}</test:runstate>${objects ? snapshotsXml(objects.snapshots) : ''}</domain>`,
    );
  }
  return [
    '<?xml version="1.0"?>',
    '<node>',
    ...doms,
    ...(objects ? poolsXml(objects.pools, objects.volumesPerPool) : []),
    ...(objects ? networksXml(objects.networks) : []),
    '  <cpu><mhz>3000</mhz><model>bench</model><active>16</active><nodes>1</nodes><sockets>1</sockets><cores>8</cores><threads>2</threads></cpu>',
    '  <memory>67108864</memory>',
    '</node>',
    '',
  ].join('\n');
}
