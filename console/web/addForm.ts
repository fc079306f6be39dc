/** The list's form that adds a machine from a pasted or uploaded definition. */
import type { MachineView } from '../../domain/machine';
import { call, issuesOf } from './calls';
import { h, replace } from './dom';
import { navigate } from './navigation';

const EXAMPLE = {
  object: { orderId: 42, delay: 1 },
  config: { START: 'prepare', 'TASK-1': 'task-1', 'TASK-2a': 'task-2a', 'TASK-2b': 'task-2b', FINALIZE: 'finalize' },
  state: 'START',
};

export function addForm(): HTMLElement {
  const errors = h('ul', { id: 'def-errors', class: 'field-errors', 'aria-live': 'assertive' });
  const textarea = h('textarea', {
    id: 'def',
    name: 'definition',
    rows: 12,
    spellcheck: 'false',
    'aria-describedby': 'def-hint def-errors',
  });
  const file = h('input', { id: 'def-file', type: 'file', accept: '.json,application/json' });
  file.addEventListener('change', async () => {
    const chosen = file.files?.[0];
    if (chosen) textarea.value = await chosen.text();
  });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Add machine');
  const form = h(
    'form',
    { id: 'add-form', novalidate: true },
    h('label', { for: 'def' }, 'Definition (JSON)'),
    h(
      'p',
      { id: 'def-hint', class: 'hint' },
      'Paste a definition — { "state", "config", "object"?, "name"?, "options"? } — or upload a file.',
    ),
    h('div', { class: 'field-row' }, textarea, errors),
    h(
      'div',
      { class: 'form-row' },
      h('label', { for: 'def-file' }, 'Upload a .json file'),
      file,
      h(
        'button',
        {
          type: 'button',
          onclick: () => {
            textarea.value = JSON.stringify(EXAMPLE, null, 2);
            textarea.focus();
          },
        },
        'Insert the example',
      ),
      submit,
    ),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    replace(errors);
    textarea.removeAttribute('aria-invalid');
    try {
      await add(textarea, errors);
    } finally {
      submit.disabled = false;
    }
  });
  return h('section', { id: 'add-panel', class: 'panel', hidden: true, 'aria-label': 'Add a machine' }, form);
}

/** Adds the machine and opens it, or lists why the API refused it. */
async function add(textarea: HTMLTextAreaElement, errors: HTMLElement): Promise<void> {
  const answer = await call<MachineView>('POST', '/api/machines', textarea.value);
  if (answer.status === 200 || answer.status === 201) {
    const machine = answer.body as MachineView;
    navigate(`/machines/${encodeURIComponent(machine.id)}`, {
      kind: 'ok',
      text:
        answer.status === 201
          ? `Added ${machine.id}.`
          : `A machine named ${machine.id} with this definition already exists (200): here it is.`,
    });
    return;
  }
  textarea.setAttribute('aria-invalid', 'true');
  replace(
    errors,
    h('li', { class: 'summary' }, `${answer.status}: ${answer.body.error ?? 'refused'}`),
    ...(answer.body.details && Array.isArray(answer.body.details) ? issuesOf(answer) : []).map((issue) =>
      h('li', { 'data-path': issue.path }, h('code', {}, issue.path), ' ', issue.message),
    ),
  );
}
