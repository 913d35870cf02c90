// The pickers' UI (pickers.ts) on VS Code's own quick pick.
import * as vscode from 'vscode';
import type { PickItem, PickerUi } from './pickers';

type Item<T> = vscode.QuickPickItem & { item: PickItem<T> };
const toItems = <T>(items: readonly PickItem<T>[]): Item<T>[] =>
  items.map((item) => ({ label: item.label, description: item.description, detail: item.detail, item }));

export const vscodeUi: PickerUi = {
  async pick(items, opts) {
    const p = await vscode.window.showQuickPick(toItems(items), { ...opts, matchOnDescription: true, matchOnDetail: true });
    return p?.item;
  },
  async pickMany(items, opts) {
    const p = await vscode.window.showQuickPick(toItems(items), { ...opts, canPickMany: true, matchOnDescription: true, matchOnDetail: true });
    return p?.map((x) => x.item);
  },
  info(message) {
    void vscode.window.showInformationMessage(message);
  },
};
