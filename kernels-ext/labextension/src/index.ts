/**
 * wasmlab-syntax: highlight `%%wit` and `%%wac` notebook cells (and `.wit` / `.wac` files).
 *
 * A notebook gives every code cell the kernel's language (IPython).  This plugin watches each code
 * cell's source: when its first line is the `%%wit` or `%%wac` magic the cell's editor switches to
 * the WIT or WAC language, and switches back to the notebook's language when the magic goes away.
 */

import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { IEditorLanguageRegistry } from '@jupyterlab/codemirror';
import { ICellModel } from '@jupyterlab/cells';
import { INotebookTracker, Notebook, NotebookPanel } from '@jupyterlab/notebook';

import {
  WAC_MIME,
  WIT_MIME,
  languageSupport,
  wacLanguage,
  witLanguage
} from './languages';

const MAGIC_MIME_TYPES: { [magic: string]: string } = {
  wit: WIT_MIME,
  wac: WAC_MIME
};
const OUR_MIME_TYPES = new Set(Object.values(MAGIC_MIME_TYPES));

// IPython ignores blank lines before a cell magic; options may follow it (`%%wit --deps wit/`).
const CELL_MAGIC = /^(?:[ \t]*\r?\n)*%%(\w+)(?=\s|$)/;

/** The MIME type a cell's source asks for through its cell magic, or null for none of ours. */
export function magicMimeType(source: string): string | null {
  const match = CELL_MAGIC.exec(source);
  return (match && MAGIC_MIME_TYPES[match[1]]) || null;
}

/** Keep one cell's editor language in step with its magic. */
function followMagic(cell: ICellModel, notebook: Notebook): void {
  const update = (): void => {
    const wanted = magicMimeType(cell.sharedModel.getSource());
    if (wanted) {
      if (cell.mimeType !== wanted) {
        cell.mimeType = wanted;
      }
    } else if (OUR_MIME_TYPES.has(cell.mimeType)) {
      // Only undo our own change: other extensions may give other magics their own language.
      cell.mimeType = notebook.codeMimetype;
    }
  };
  cell.contentChanged.connect(update);
  // The notebook resets every code cell to its language when a cell widget is made and when the
  // kernel's language info arrives; put ours back.
  cell.mimeTypeChanged.connect(update);
  update();
}

function followNotebook(panel: NotebookPanel): void {
  const notebook = panel.content;
  const followed = new WeakSet<ICellModel>();
  const follow = (cell: ICellModel): void => {
    if (cell.type === 'code' && !followed.has(cell)) {
      followed.add(cell);
      followMagic(cell, notebook);
    }
  };
  const attach = (): void => {
    const cells = notebook.model?.cells;
    if (!cells) {
      return;
    }
    for (let i = 0; i < cells.length; i++) {
      follow(cells.get(i));
    }
    cells.changed.connect((_, change) => {
      if (change.type === 'add' || change.type === 'set') {
        change.newValues.forEach(follow);
      }
    });
  };
  notebook.modelChanged.connect(attach);
  attach();
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'wasmlab-syntax:plugin',
  description: 'Highlights %%wit and %%wac cells in notebooks, and .wit and .wac files.',
  autoStart: true,
  requires: [IEditorLanguageRegistry, INotebookTracker],
  activate: (
    app: JupyterFrontEnd,
    languages: IEditorLanguageRegistry,
    notebooks: INotebookTracker
  ): void => {
    languages.addLanguage({
      name: 'wit',
      displayName: 'WIT',
      mime: WIT_MIME,
      extensions: ['wit'],
      load: async () => languageSupport(witLanguage)
    });
    languages.addLanguage({
      name: 'wac',
      displayName: 'WAC',
      mime: WAC_MIME,
      extensions: ['wac'],
      load: async () => languageSupport(wacLanguage)
    });
    notebooks.forEach(followNotebook);
    notebooks.widgetAdded.connect((_, panel) => followNotebook(panel));
  }
};

export default plugin;
