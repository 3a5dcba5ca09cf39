import { validateStepResult, type StepResult } from '../../../src/contracts/result';
import { failedResult, pointersOf, succeededResult, violationsOf, withChanges } from './samples';

describe('validateStepResult', () => {
  it('accepts a SUCCEEDED result and narrows it by status', () => {
    const result = validateStepResult(succeededResult);

    expect(result.ok).toBe(true);
    if (result.ok) {
      const reply: StepResult = result.value;
      expect(reply.status === 'SUCCEEDED' ? reply.output_ref : undefined).toBe('out/ocr/text.json');
    }
  });

  it('accepts a FAILED result, with or without partial output', () => {
    expect(validateStepResult(failedResult).ok).toBe(true);
    expect(validateStepResult(withChanges(failedResult, { output_ref: 'out/partial' })).ok).toBe(true);
  });

  it('requires output_ref when SUCCEEDED', () => {
    expect(violationsOf(validateStepResult(withChanges(succeededResult, { output_ref: undefined })))).toEqual(
      [{ pointer: '/output_ref', message: 'required property "output_ref" is missing', keyword: 'required' }],
    );
  });

  it('refuses a failure on a SUCCEEDED result', () => {
    const reply = withChanges(succeededResult, { failure: failedResult.failure });

    expect(violationsOf(validateStepResult(reply))).toEqual([
      { pointer: '/failure', message: 'is not allowed here', keyword: 'false schema' },
    ]);
  });

  it('requires a failure when FAILED', () => {
    expect(pointersOf(validateStepResult(withChanges(failedResult, { failure: undefined })))).toEqual([
      '/failure',
    ]);
  });

  it('points inside the failure at what is wrong there', () => {
    const reply = withChanges(failedResult, {
      failure: { failure_class: 'OOPS', message: '', stack: 'at x' },
    });

    expect(pointersOf(validateStepResult(reply))).toEqual([
      '/failure/failure_class',
      '/failure/message',
      '/failure/stack',
    ]);
  });

  it('reports only the status when it is missing or unknown', () => {
    expect(pointersOf(validateStepResult(withChanges(failedResult, { status: undefined })))).toEqual([
      '/status',
    ]);
    expect(pointersOf(validateStepResult(withChanges(failedResult, { status: 'FAILING' })))).toEqual([
      '/status',
    ]);
  });

  it.each([
    ['status', 'RUNNING'],
    ['kind', 'ack'],
    ['result', 'done'],
    ['completed_at', 'now'],
    ['attempt_no', 0],
  ])('refuses %s = %j', (field, value) => {
    expect(pointersOf(validateStepResult(withChanges(succeededResult, { [field]: value })))).toEqual([
      `/${field}`,
    ]);
  });
});
