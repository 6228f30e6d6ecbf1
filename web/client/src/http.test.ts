import { describe, expect, it } from 'vitest'
import { PreconditionFailedError, ProblemError, ValidationError } from './errors.js'
import { HttpApi } from './http.js'
import { fakeFetch, json } from './testing/fakes.js'

const sourceId = 'w-test'

describe('HttpApi.getSnapshot', () => {
  it('sends If-None-Match once it holds a snapshot and answers a 304 from its cache', async () => {
    const { fetch, calls } = fakeFetch((req) =>
      req.headers['if-none-match'] === '"7"'
        ? new Response(null, { status: 304, headers: { ETag: '"7"' } })
        : json(200, { revision: '7', data: { theme: 'dark' } }, { ETag: '"7"' }),
    )
    const api = new HttpApi({ fetch, sourceId })

    const first = await api.getSnapshot('app-settings')
    expect(first).toEqual({ revision: '7', data: { theme: 'dark' } })
    expect(calls[0]!.url).toBe('/api/topics/app-settings')
    expect(calls[0]!.headers['if-none-match']).toBeUndefined()

    const second = await api.getSnapshot<{ theme: string }>('app-settings')
    expect(calls[1]!.headers['if-none-match']).toBe('"7"')
    expect(second).toEqual(first)
    // A copy: a caller that mutates it cannot corrupt the cache.
    second.data.theme = 'light'
    expect((await api.getSnapshot<{ theme: string }>('app-settings')).data.theme).toBe('dark')
  })

  it('keeps the newest snapshot as its validator', async () => {
    let answer = { revision: '9', data: {} }
    const { fetch, calls } = fakeFetch(() => json(200, answer))
    const api = new HttpApi({ fetch, sourceId })
    await api.getSnapshot('cart')
    answer = { revision: '8', data: {} } // an out-of-order answer
    await api.getSnapshot('cart')
    await api.getSnapshot('cart')
    expect(calls[2]!.headers['if-none-match']).toBe('"9"')
  })

  it('uses the base URL and rejects invalid topic names before sending', async () => {
    const { fetch, calls } = fakeFetch(() => json(200, { revision: '1', data: {} }))
    const api = new HttpApi({ fetch, sourceId, baseUrl: 'http://127.0.0.1:8080/' })
    await api.getSnapshot('user-preferences')
    expect(calls[0]!.url).toBe('http://127.0.0.1:8080/api/topics/user-preferences')
    await expect(api.getSnapshot('../etc/passwd')).rejects.toThrow(TypeError)
    await expect(api.getSnapshot('Upper')).rejects.toThrow(TypeError)
    expect(calls).toHaveLength(1)
  })

  it('turns a 404 into a ProblemError and a bad body into a TypeError', async () => {
    const api404 = new HttpApi({
      sourceId,
      fetch: fakeFetch(() => json(404, { type: 'about:blank', title: 'Not Found', status: 404, detail: 'unknown topic' })).fetch,
    })
    const err = await api404.getSnapshot('nope').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ProblemError)
    expect(err).toMatchObject({ status: 404, detail: 'unknown topic' })

    const apiBad = new HttpApi({ sourceId, fetch: fakeFetch(() => json(200, { revision: 7, data: {} })).fetch })
    await expect(apiBad.getSnapshot('x')).rejects.toThrow(/invalid revision/)
  })
})

describe('HttpApi writes', () => {
  const ok = () => json(200, { revision: '12', data: { ok: true } }, { ETag: '"12"' })

  it.each([
    ['put', 'PUT', '/api/topics/app-settings', 'application/json', { theme: 'dark' }],
    ['patch', 'PATCH', '/api/topics/app-settings', 'application/merge-patch+json', { theme: 'dark' }],
    ['action', 'POST', '/api/topics/app-settings/actions/toggle-theme', 'application/json', {}],
    ['reset', 'DELETE', '/api/topics/app-settings', undefined, undefined],
  ] as const)('%s sends %s %s with X-Source-Id and If-Match', async (kind, method, url, contentType, body) => {
    const { fetch, calls } = fakeFetch(ok)
    const api = new HttpApi({ fetch, sourceId })
    const options = { ifMatch: '11' }
    const snapshot =
      kind === 'put'
        ? await api.put('app-settings', body, options)
        : kind === 'patch'
          ? await api.patch('app-settings', body, options)
          : kind === 'action'
            ? await api.action('app-settings', 'toggle-theme', body, options)
            : await api.reset('app-settings', options)
    expect(snapshot).toEqual({ revision: '12', data: { ok: true } })
    const req = calls[0]!
    expect(req.method).toBe(method)
    expect(req.url).toBe(url)
    expect(req.headers['x-source-id']).toBe(sourceId)
    expect(req.headers['if-match']).toBe('"11"')
    expect(req.headers['content-type']).toBe(contentType)
    expect(req.body).toEqual(body)
  })

  it('omits If-Match unless asked, and sends * as is', async () => {
    const { fetch, calls } = fakeFetch(ok)
    const api = new HttpApi({ fetch, sourceId })
    await api.put('cart', {})
    await api.put('cart', {}, { ifMatch: '*' })
    expect(calls[0]!.headers['if-match']).toBeUndefined()
    expect(calls[1]!.headers['if-match']).toBe('*')
  })

  it('remembers the written snapshot for the next If-None-Match', async () => {
    const { fetch, calls } = fakeFetch((req) => (req.method === 'GET' ? new Response(null, { status: 304 }) : ok()))
    const api = new HttpApi({ fetch, sourceId })
    await api.put('cart', { items: [] })
    const snap = await api.getSnapshot('cart')
    expect(calls[1]!.headers['if-none-match']).toBe('"12"')
    expect(snap.revision).toBe('12')
  })

  it('parses a 422 problem into a ValidationError with per-field messages', async () => {
    const problem = {
      type: 'https://pinion.dev/problems/validation',
      title: 'Validation failed',
      status: 422,
      detail: '2 fields are invalid',
      errors: [
        { field: 'fontSize', pointer: '/fontSize', rule: 'max', param: '32', message: 'fontSize must be at most 32' },
        { field: 'qty', pointer: '/items/2/qty', rule: 'min', param: '1', message: 'qty must be at least 1' },
        { field: 'fontSize', pointer: '/fontSize', rule: 'type', param: '', message: 'second message' },
      ],
    }
    const api = new HttpApi({ sourceId, fetch: fakeFetch(() => json(422, problem)).fetch })
    const err = await api.put('app-settings', { fontSize: 99 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ValidationError)
    expect(err).toBeInstanceOf(ProblemError)
    const v = err as ValidationError
    expect(v.status).toBe(422)
    expect(v.message).toBe('2 fields are invalid')
    expect(v.errors).toHaveLength(3)
    expect(v.fields['/fontSize']).toBe('fontSize must be at most 32')
    expect(v.fields.fontSize).toBe('fontSize must be at most 32')
    expect(v.fields['/items/2/qty']).toBe('qty must be at least 1')
    expect(v.messageFor('qty')).toBe('qty must be at least 1')
    expect(v.messageFor('language')).toBeUndefined()
  })

  it('parses a 412 into a PreconditionFailedError with the current revision', async () => {
    const body = { type: 'about:blank', title: 'Precondition Failed', status: 412, detail: 'stale', currentRevision: '15' }
    const api = new HttpApi({ sourceId, fetch: fakeFetch(() => json(412, body, { ETag: '"15"' })).fetch })
    const err = await api.put('cart', {}, { ifMatch: '11' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PreconditionFailedError)
    expect((err as PreconditionFailedError).currentRevision).toBe('15')

    const headerOnly = new HttpApi({
      sourceId,
      fetch: fakeFetch(() => json(412, { ...body, currentRevision: undefined }, { ETag: '"16"' })).fetch,
    })
    const err2 = (await headerOnly.put('cart', {}, { ifMatch: '11' }).catch((e: unknown) => e)) as PreconditionFailedError
    expect(err2.currentRevision).toBe('16')
  })

  it('turns a non-JSON error (a proxy 502) into a ProblemError', async () => {
    const api = new HttpApi({
      sourceId,
      fetch: fakeFetch(() => new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway', headers: { 'Content-Type': 'text/html' } })).fetch,
    })
    const err = await api.patch('cart', {}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ProblemError)
    expect(err).not.toBeInstanceOf(ValidationError)
    expect(err).toMatchObject({ status: 502, title: 'Bad Gateway' })
  })
})
