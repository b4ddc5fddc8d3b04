/** The facts of a schema the cache reads (schema.ts builds them): types only. */

export type ReferentialAction = 'Cascade' | 'SetNull' | 'SetDefault' | 'Restrict' | 'NoAction'

/** A foreign key: `holder.fields` reference `target.references`. */
export interface ForeignKey {
  holder: string
  /** The relation field on the holder that declares it. */
  field: string
  /** Prisma's relation name (both sides of the relation share it). */
  relationName: string
  target: string
  fields: string[]
  references: string[]
  onDelete: ReferentialAction
  onUpdate: ReferentialAction
}

/** A unique selector as `findUnique`'s `where` names it: a field, or a compound (`tenant_code`). */
export interface UniqueKey {
  name: string
  fields: string[]
}

/** A scalar field whose equality a cached read can be keyed on (invalidation/read-keys.ts). */
export interface TrackedField {
  name: string
  /** How values are made comparable: the database's equality, not JavaScript's. */
  canonical: 'integer' | 'boolean' | 'string' | 'uuid'
}

export interface ModelFacts {
  name: string
  scalars: ReadonlySet<string>
  /** relation field name -> related model name */
  relations: ReadonlyMap<string, string>
  /** relation field name -> how its rows are found (from the schema text) */
  relationFacts: ReadonlyMap<string, RelationFacts>
  /** Ids and unique constraints, from the schema text (empty without it: no batching then). */
  uniques: UniqueKey[]
  /**
   * Fields whose equality keys reads and writes (ids, uniques, foreign keys, booleans, enums):
   * a write bumps the key of each one's value in the row it wrote. Empty without the schema text.
   */
  tracked: ReadonlyMap<string, TrackedField>
  /**
   * Every scalar field whose equality this library reproduces (a superset of `tracked`): batching
   * routes rows back by these only (batching/plan.ts). Empty without the schema text.
   */
  comparable: ReadonlyMap<string, TrackedField>
  /** `@updatedAt` fields: every update assigns them. */
  updatedAt: readonly string[]
}

/**
 * How a relation field's rows are found from its model's rows:
 * - `here`: this model holds the foreign key (`Post.author`: `Post.authorId` → `User.id`);
 * - `there`: the related model holds it (`User.posts`: `Post.authorId` → `User.id`);
 * - `m2m`: an implicit many-to-many table links the two (`Post.tags` ↔ `Tag.posts`);
 * - `unknown`: the schema text was not available.
 */
export type RelationSide =
  | { kind: 'here'; fields: string[]; references: string[] }
  | { kind: 'there'; fields: string[]; references: string[] }
  | { kind: 'm2m' }
  | { kind: 'unknown' }

export interface RelationFacts {
  /** The relation field on this model. */
  field: string
  /** The related model. */
  model: string
  /** Prisma's relation name, shared by both sides (`PostToTag`). */
  name: string
  list: boolean
  side: RelationSide
  /** The relation field on the related model with the same relation name (set once every model is known). */
  inverse?: string
  /** The related model's single-field id, as a tracked field (how link keys name its rows). */
  targetId?: TrackedField
}

