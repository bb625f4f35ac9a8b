/** The part of `pg` bkt uses: a pool and the clients it lends. */
export interface PgQueryable {
  query(text: string | object, values?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }> & any;
}
export interface PgClient extends PgQueryable {
  release(error?: Error | boolean): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
}
export interface PgPool extends PgQueryable {
  connect(): Promise<PgClient>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): unknown;
}
