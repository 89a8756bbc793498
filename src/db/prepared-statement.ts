// The hot path's statements run as named prepared statements (docs/decisions/0012): node-postgres
// parses each once per connection, and PostgreSQL may keep its plan once it has planned it five
// times. Sent unnamed, every call was parsed and planned again, which cost several times what
// running it did. A name stands for one SQL text: node-postgres refuses the same name with
// another text on a connection, so only statements whose text never changes may have one.
export interface PreparedStatementOptions {
  readonly name: string;
}

export function preparedStatement(name: string): PreparedStatementOptions {
  return { name: `flowbot_${name}` };
}
