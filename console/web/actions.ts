/** What one can do to a machine from its page: delete it, resume it (parked), redrive it (failed). */
import type { MachineView } from '../../domain/machine';
import { call, issuesOf } from './calls';
import { append, h, replace } from './dom';
import { type Flash, navigate } from './navigation';

/** What the actions need of the machine's page. */
export interface ActionHost {
  say(text: string, kind?: Flash['kind']): void;
  /** The machine is no more (404). */
  gone(text: string): void;
  /** The machine changed: read it again now. */
  reload(): void;
}

/** The actions panel; redrawn only when what it offers changes, and not while a delete waits for its confirmation. */
export class ActionsPanel {
  private key = '';
  private deleting = false;

  constructor(
    private readonly box: HTMLElement,
    private readonly host: ActionHost,
  ) {}

  draw(m: MachineView): void {
    const key = `${m.status}|${m.removing}|${Object.keys(m.config).join(',')}`;
    if (key === this.key || this.deleting) return;
    this.key = key;
    replace(
      this.box,
      this.deleteControl(m),
      m.status === 'PARKED' && !m.removing ? resumeForm(m, this.changed) : null,
      m.status === 'FAILED' ? redriveControl(m, this.changed) : null,
    );
  }

  /** Draws the panel again at the next poll. */
  private redraw(): void {
    this.key = '';
  }

  private deleteControl(m: MachineView): HTMLElement {
    const box = h('div', { class: 'action' });
    const ask = h(
      'button',
      { type: 'button', class: 'danger', id: 'delete', onclick: () => this.confirmDelete(m, box, ask) },
      'Delete…',
    );
    box.append(ask);
    return box;
  }

  private confirmDelete(m: MachineView, box: HTMLElement, ask: HTMLButtonElement): void {
    this.deleting = true;
    const yes: HTMLButtonElement = h(
      'button',
      { type: 'button', class: 'danger', id: 'delete-confirm', onclick: () => this.delete(m, yes) },
      'Yes, delete it',
    );
    const cancel = () => {
      this.deleting = false;
      this.redraw();
      replace(box, ask);
      ask.focus();
    };
    replace(
      box,
      h('span', { class: 'confirm', role: 'alert' }, `Delete ${m.id}? This cannot be undone. `),
      yes,
      h('button', { type: 'button', onclick: cancel }, 'Cancel'),
    );
    yes.focus();
  }

  private async delete(m: MachineView, yes: HTMLButtonElement): Promise<void> {
    yes.disabled = true;
    const answer = await call('DELETE', `/api/machines/${encodeURIComponent(m.id)}`);
    this.deleting = false;
    if (answer.status === 204) {
      navigate('/', { kind: 'ok', text: `Deleted ${m.id} (204): it was between steps, so it was removed at once.` });
    } else if (answer.status === 202) {
      this.host.say(
        `Deletion requested (202): a handler is running ${m.state} right now; the machine is removed when that step ends.`,
      );
      this.redraw();
    } else if (answer.status === 404) {
      this.host.gone('It was already deleted (404).');
    } else {
      this.host.say(`Delete failed (${answer.status}): ${answer.body.error ?? ''}`, 'error');
      this.redraw();
    }
  }

  /** An action moved the machine on: says so, and reads it again now. */
  private readonly changed = (text: string): void => {
    this.host.say(text);
    this.redraw();
    this.host.reload();
  };
}

/** A parked machine: resume it, in its state or another, with its data or new data. */
function resumeForm(m: MachineView, changed: (text: string) => void): HTMLElement {
  const stateErrors = h('ul', { id: 'resume-state-errors', class: 'field-errors', 'aria-live': 'assertive' });
  const objectErrors = h('ul', { id: 'resume-object-errors', class: 'field-errors', 'aria-live': 'assertive' });
  const formErrors = h('ul', { class: 'field-errors', 'aria-live': 'assertive' });
  const select = h(
    'select',
    { id: 'resume-state', 'aria-describedby': 'resume-state-errors' },
    h('option', { value: '' }, `stay in ${m.state}`),
    ...Object.keys(m.config).map((s) => h('option', { value: s }, s)),
  );
  const object = h('textarea', {
    id: 'resume-object',
    rows: 4,
    spellcheck: 'false',
    placeholder: 'leave empty to keep the data',
    'aria-describedby': 'resume-object-errors',
  });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Resume');
  const form = h(
    'form',
    { class: 'action panel', id: 'resume-form', novalidate: true },
    h('strong', {}, 'This machine is parked. Resume it'),
    h('div', { class: 'field' }, h('label', { for: 'resume-state' }, 'in state'), select, stateErrors),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'resume-object' }, 'with new data (JSON, optional)'),
      object,
      objectErrors,
    ),
    submit,
    formErrors,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    for (const list of [stateErrors, objectErrors, formErrors]) replace(list);
    const request: { state?: string; object?: unknown } = {};
    if (select.value) request.state = select.value;
    if (object.value.trim()) {
      try {
        request.object = JSON.parse(object.value);
      } catch (error) {
        object.setAttribute('aria-invalid', 'true');
        replace(objectErrors, h('li', {}, `not JSON: ${(error as Error).message}`));
        object.focus();
        return;
      }
    }
    submit.disabled = true;
    const answer = await call('POST', `/api/machines/${encodeURIComponent(m.id)}/resume`, JSON.stringify(request));
    submit.disabled = false;
    if (answer.status === 202 || answer.status === 200) {
      changed('Resumed (202): it runs its next step now.');
      return;
    }
    for (const issue of issuesOf(answer)) {
      const list = issue.path === 'state' ? stateErrors : issue.path.startsWith('object') ? objectErrors : formErrors;
      append(list, [h('li', {}, h('code', {}, issue.path), ' ', issue.message)]);
    }
    if (answer.status === 409) append(formErrors, [h('li', {}, 'It is not parked any more (409): see its status.')]);
  });
  return form;
}

/** A failed machine: run its failed step again. */
function redriveControl(m: MachineView, changed: (text: string) => void): HTMLElement {
  const result = h('span', { class: 'hint', 'aria-live': 'polite' });
  const button: HTMLButtonElement = h(
    'button',
    {
      type: 'button',
      id: 'redrive',
      onclick: async () => {
        button.disabled = true;
        const answer = await call('POST', `/api/machines/${encodeURIComponent(m.id)}/redrive`, '{}');
        button.disabled = false;
        if (answer.status === 200 || answer.status === 202) {
          changed(`Redriven (${answer.status}): ${m.error?.state ?? m.state} runs again.`);
        } else if (answer.body.code === 'ROUTE_NOT_FOUND') {
          replace(result, 'This API has no redrive yet (404): deploy a version with POST /machines/{id}/redrive.');
        } else if (answer.status === 409) {
          replace(result, `Cannot redrive it now (409): ${answer.body.error ?? 'conflict'}`);
        } else {
          replace(result, `Redrive failed (${answer.status}): ${answer.body.error ?? ''}`);
        }
      },
    },
    'Redrive',
  );
  return h(
    'div',
    { class: 'action' },
    button,
    ' ',
    h('span', { class: 'hint' }, 'run the failed step again'),
    ' ',
    result,
  );
}
