// Compile-time checks (tsc fails when one breaks): the task and error types that the OpenAPI
// document gives are precise, with no field typed `any` or `unknown`, down to nested objects.
import type { ApiError, components, NewTask, PageMeta, Task, TaskChanges } from "../src/index.js";

type IsAny<T> = 0 extends 1 & T ? true : false;
type IsUnknown<T> = IsAny<T> extends true ? false : unknown extends T ? true : false;
type Loose<T> = IsAny<T> extends true
  ? true
  : IsUnknown<T> extends true
    ? true
    : T extends readonly (infer Item)[]
      ? Loose<Item>
      : T extends object
        ? { [K in keyof T]-?: Loose<T[K]> }[keyof T] extends false
          ? false
          : true
        : false;
type Precise<T> = Loose<T> extends false ? true : never;

type ErrorEnvelope = components["schemas"]["ErrorEnvelope"];
type TaskEnvelope = components["schemas"]["TaskEnvelope"];
type TaskListEnvelope = components["schemas"]["TaskListEnvelope"];

export const precise: [
  Precise<Task>,
  Precise<NewTask>,
  Precise<TaskChanges>,
  Precise<PageMeta>,
  Precise<ApiError>,
  Precise<ErrorEnvelope>,
  Precise<TaskEnvelope>,
  Precise<TaskListEnvelope>,
] = [true, true, true, true, true, true, true, true];

// The checks can fail: a type with an `unknown` field is not precise.
export const loose: Loose<{ id: string; extra: { deep: unknown } }> = true;
export const looseAny: Loose<{ items: any[] }> = true;
