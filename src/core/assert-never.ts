/**
 * The end of every `switch` over a union (control-message types above all): adding a member to the union fails the
 * build at each switch that does not handle it. At run time (a value the types did not foresee) it does nothing.
 */
export function assertNever(value: never): void {
  void value;
}
