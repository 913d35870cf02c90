// The steps (1)-(23) of the virtio-net TX diagram (Figure II beside the container-vs-KVM table;
// comparisonTable.ts cites it), and where each one's count comes from.

/** Guest functions the trace puts a kprobe on when the guest kernel has them (available_filter_functions). */
export const GUEST_PROBES = [
  'start_xmit',
  'free_old_xmit_skbs',
  'free_old_xmit', // name since Linux 6.8
  'xmit_skb', // usually inlined into start_xmit
  'virtqueue_add_outbuf',
  'virtqueue_add_sgs',
  'virtqueue_kick',
  'virtqueue_kick_prepare',
  'virtqueue_notify',
  'vp_notify',
  'virtqueue_enable_cb_delayed',
  'virtqueue_disable_cb',
  'skb_xmit_done',
  'virtnet_poll_tx',
  'vring_interrupt',
  'netif_tx_wake_queue',
] as const;

/**
 * The kick path: one probe, on the kick itself (vp_notify, 0.7 hits per packet on the recorded run;
 * counted per virtqueue by a hist trigger). Everything else the default trace shows comes from counters
 * the guest keeps anyway, at no cost: packets handed to the driver (= start_xmit calls) from the
 * interface's counters, interrupts per virtqueue from /proc/interrupts. On the recorded run this is 4 %
 * of the probe hits of GUEST_PROBES.
 */
export const GUEST_PROBES_KICK_PATH = ['vp_notify'] as const;

/** Functions of the path that are static inline in every kernel: no symbol, no kprobe. */
export const INLINE_FUNCTIONS: Record<string, string> = {
  netif_stop_queue: 'static inline (include/linux/netdevice.h): sets a bit, has no symbol; its effect shows as later wakes',
  netif_start_queue: 'static inline; today the driver restarts a stopped queue with netif_tx_wake_queue (probed)',
  netif_stop_subqueue: 'static inline wrapper of netif_tx_stop_queue',
};

export type StepSource =
  /** counter: where the count comes from when none of the functions was probed. */
  | { readonly kind: 'guest'; readonly functions: readonly string[]; readonly counter?: 'tx-packets' }
  | { readonly kind: 'qemu'; readonly what: 'notify' | 'notify-tx-queue' | 'interrupts' }
  | { readonly kind: 'kvm'; readonly what: 'exits-io' | 'pio-mmio' }
  | { readonly kind: 'same-as'; readonly step: number; readonly why: string }
  | { readonly kind: 'none'; readonly why: string };

export interface StepDef {
  readonly n: number;
  readonly side: 'guest' | 'host';
  readonly label: string;
  readonly source: StepSource;
  /** What the figure means for the user. */
  readonly meaning: string;
}

export const STEPS: readonly StepDef[] = [
  {
    n: 1,
    side: 'guest',
    label: 'start_xmit()',
    source: { kind: 'guest', functions: ['start_xmit'], counter: 'tx-packets' },
    meaning: 'The driver is handed one packet (one GSO super-packet with TSO: several wire packets per call).',
  },
  {
    n: 2,
    side: 'guest',
    label: 'free_old_xmit_skbs()',
    source: { kind: 'guest', functions: ['free_old_xmit_skbs', 'free_old_xmit'] },
    meaning: 'Reclaims buffers the host has already sent; counts every call (also those of steps 19 and of the TX NAPI poll).',
  },
  {
    n: 3,
    side: 'guest',
    label: 'xmit_skb() → virtqueue_add_buf_gfp()',
    source: { kind: 'guest', functions: ['virtqueue_add_outbuf', 'virtqueue_add_sgs'] },
    meaning: 'Descriptors placed in the shared ring (virtqueue_add_buf_gfp is virtqueue_add_outbuf/_sgs today; counts every virtqueue of the guest).',
  },
  {
    n: 4,
    side: 'guest',
    label: 'virtqueue_kick(): notify iff the host asked for it',
    source: { kind: 'guest', functions: ['virtqueue_kick_prepare'] },
    meaning: 'How often the driver asked "does the host want a kick?" — notification suppression answers no most of the time.',
  },
  {
    n: 5,
    side: 'guest',
    label: 'vp_notify()',
    source: { kind: 'guest', functions: ['vp_notify'] },
    meaning: 'Kicks actually sent to the virtual NIC (all virtio-pci devices of the guest). Each one costs a trap to the hypervisor.',
  },
  {
    n: 6,
    side: 'host',
    label: 'PIO/MMIO write to the VNIC (notify register)',
    source: { kind: 'kvm', what: 'pio-mmio' },
    meaning: "The guest writes the queue number to the device's notify register; under KVM this write traps.",
  },
  {
    n: 7,
    side: 'host',
    label: 'VM exit (KVM driver exit)',
    source: { kind: 'kvm', what: 'exits-io' },
    meaning: 'The vCPU leaves guest mode: the most expensive part of a kick (microseconds per exit).',
  },
  {
    n: 8,
    side: 'host',
    label: 'QEMU handles the write',
    source: { kind: 'qemu', what: 'notify' },
    meaning: "QEMU's virtio_queue_notify: the kick arrives in the device model (all queues of all virtio devices).",
  },
  {
    n: 9,
    side: 'host',
    label: 'virtio_net_handle_tx_timer() / _bh()',
    source: { kind: 'qemu', what: 'notify-tx-queue' },
    meaning:
      'The TX handler runs once per kick on the TX queue (counted as virtio_queue_notify on the busiest queue; QEMU has no trace event of its own here).',
  },
  {
    n: 10,
    side: 'host',
    label: 'qemu_mod_timer()',
    source: { kind: 'none', why: "only with tx=timer (QEMU's default is tx=bh: a bottom half instead of a timer); QEMU has no trace event for it" },
    meaning: 'Batching delay on the host side.',
  },
  {
    n: 11,
    side: 'host',
    label: 'virtio_queue_set_notification()',
    source: { kind: 'none', why: 'QEMU has no trace event for it' },
    meaning: 'The host tells the guest to stop kicking while it drains the ring.',
  },
  { n: 12, side: 'host', label: 'disable host interrupts (notifications)', source: { kind: 'same-as', step: 11, why: 'part of step 11' }, meaning: '' },
  {
    n: 13,
    side: 'guest',
    label: 'avail ring capacity < 20?',
    source: { kind: 'same-as', step: 14, why: 'a branch inside start_xmit; taken once per queue stop' },
    meaning: '',
  },
  {
    n: 14,
    side: 'guest',
    label: 'netif_stop_queue()',
    source: { kind: 'none', why: 'static inline: not probeable; step (21) counts the wakes, an upper bound of the stops' },
    meaning: 'The ring is full: the guest stops handing packets to the driver until the host catches up.',
  },
  {
    n: 15,
    side: 'guest',
    label: 'virtqueue_enable_cb_delayed()',
    source: { kind: 'guest', functions: ['virtqueue_enable_cb_delayed'] },
    meaning: 'Re-arms TX-completion interrupts, delayed until 3/4 of the ring is used.',
  },
  { n: 16, side: 'guest', label: 'unmask interrupts', source: { kind: 'same-as', step: 15, why: 'done inside virtqueue_enable_cb_delayed' }, meaning: '' },
  {
    n: 17,
    side: 'guest',
    label: 'used entries > 3/4 of the ring?',
    source: { kind: 'same-as', step: 15, why: 'the check inside virtqueue_enable_cb_delayed' },
    meaning: '',
  },
  {
    n: 18,
    side: 'guest',
    label: 'return iff false',
    source: { kind: 'same-as', step: 15, why: 'the return value of virtqueue_enable_cb_delayed' },
    meaning: '',
  },
  {
    n: 19,
    side: 'guest',
    label: 'free_old_xmit_skbs()',
    source: { kind: 'same-as', step: 2, why: 'the same function as step 2 (counted there)' },
    meaning: '',
  },
  {
    n: 20,
    side: 'guest',
    label: 'avail ring capacity > 20?',
    source: { kind: 'same-as', step: 21, why: 'the branch before the queue is restarted' },
    meaning: '',
  },
  {
    n: 21,
    side: 'guest',
    label: 'netif_start_queue() (netif_tx_wake_queue)',
    source: { kind: 'guest', functions: ['netif_tx_wake_queue'] },
    meaning: 'Queue wake-ups after a clean-up left room in the ring (also called when the queue was not stopped: an upper bound of the stops).',
  },
  {
    n: 22,
    side: 'guest',
    label: 'virtqueue_disable_cb()',
    source: { kind: 'guest', functions: ['virtqueue_disable_cb'] },
    meaning: 'Masks interrupts again while the driver polls (every virtqueue; RX also calls it).',
  },
  { n: 23, side: 'host', label: 'mask interrupts', source: { kind: 'same-as', step: 22, why: 'done inside virtqueue_disable_cb' }, meaning: '' },
];

/** Functions of the path that are not in the diagram but explain it. */
export const EXTRA_GUEST: readonly { fn: string; meaning: string }[] = [
  { fn: 'virtqueue_notify', meaning: 'Generic notify (calls vp_notify); every virtqueue.' },
  { fn: 'skb_xmit_done', meaning: 'TX-completion interrupts of virtio-net (the host used TX buffers and interrupted the guest).' },
  { fn: 'virtnet_poll_tx', meaning: 'TX NAPI polls that reclaim sent buffers.' },
  { fn: 'vring_interrupt', meaning: 'All virtio interrupts the guest received (RX, TX, other devices).' },
  { fn: 'virtqueue_kick', meaning: 'virtqueue_kick() calls that are not split into prepare + notify (RX refill, other devices).' },
];
