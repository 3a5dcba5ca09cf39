import { compareRoutes, compileRoute } from '../../../devhost/http/route-template';

describe('compileRoute', () => {
  it('matches literals case-insensitively and decodes parameters', () => {
    expect(compileRoute('v1/jobs/{jobId}/steps').match('/V1/Jobs/a%2Fb/steps')).toEqual({ jobId: 'a/b' });
    expect(compileRoute('v1/jobs/{jobId}').match('/v1/jobs')).toBeUndefined();
  });

  it('applies int, guid, bool, alpha, range, length and regex constraints', () => {
    expect(compileRoute('{id:int}').match('/-5')).toEqual({ id: '-5' });
    expect(compileRoute('{id:int}').match('/5x')).toBeUndefined();
    expect(compileRoute('{id:guid}').match('/{0f8fad5b-d9cb-469f-a165-70867728950e}')).toBeDefined();
    expect(compileRoute('{flag:bool}').match('/TRUE')).toEqual({ flag: 'TRUE' });
    expect(compileRoute('{s:alpha}').match('/abc1')).toBeUndefined();
    expect(compileRoute('{n:int:range(1,3)}').match('/4')).toBeUndefined();
    expect(compileRoute('{s:length(2)}').match('/ab')).toEqual({ s: 'ab' });
    expect(compileRoute('{s:regex(^a:b$)}').match('/a:b')).toEqual({ s: 'a:b' });
  });

  it('fills defaults and leaves missing optional parameters out', () => {
    expect(compileRoute('page/{n=1}').match('/page')).toEqual({ n: '1' });
    expect(compileRoute('page/{n?}').match('/page/')).toEqual({});
  });

  it('matches parameters inside a segment', () => {
    expect(compileRoute('files/{name}.{ext}').match('/files/report.final.pdf')).toEqual({
      name: 'report',
      ext: 'final.pdf',
    });
  });

  it('refuses unreadable templates', () => {
    expect(() => compileRoute('{a?}/b')).toThrow(/only the last segment may be optional/);
    expect(() => compileRoute('{*a}/b')).toThrow(/catch-all must be last/);
    expect(() => compileRoute('{a:nope}')).toThrow(/unknown constraint "nope"/);
  });
});

describe('compareRoutes', () => {
  it('orders literal before constrained before plain parameter before catch-all', () => {
    const templates = ['x/{*rest}', 'x/{id}', 'x/{id:int}', 'x/me'];
    const sorted = templates.map(compileRoute).sort(compareRoutes);
    expect(sorted.map((route) => route.template)).toEqual(['x/me', 'x/{id:int}', 'x/{id}', 'x/{*rest}']);
  });
});
