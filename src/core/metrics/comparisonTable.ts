// Where the container-vs-KVM rows and claims come from, said the same way everywhere the user reads
// them (comparison panel, benchmark and trace reports). Browser-safe: the webview imports it too.

/** How the UI names the table. */
export const COMPARISON_TABLE = 'the OpenVZ/LXC vs KVM comparison table';

/** The table's source: the "virtualization" wiki page (OpenVZ / LXC / Zones vs KVM, 12 rows, two claims, Figure II). */
export const COMPARISON_TABLE_SOURCE = '"virtualization", a wiki page by Jan Forman (last modified 2019-07-09)';

/** "the OpenVZ/LXC vs KVM comparison table ("virtualization", …)": the name with its source, for captions. */
export const COMPARISON_TABLE_CITED = `${COMPARISON_TABLE} (${COMPARISON_TABLE_SOURCE})`;
