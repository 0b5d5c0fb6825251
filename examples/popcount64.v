// popcount64: the number of 1 bits of a 64-bit word, written the way RTL often
// counts: a loop of 32-bit additions into an accumulator (Yosys unrolls it into
// a chain of 64 '+' cells). The word path reads the chain as one sum of 64 bits
// and counts it with one layer of [count >= m] gates and one of digits.
module popcount64(input [63:0] v, output [6:0] count);
  integer i;
  reg [31:0] acc;
  always @(*) begin
    acc = 32'd0;
    for (i = 0; i < 64; i = i + 1)
      acc = acc + v[i];
  end
  assign count = acc[6:0];
endmodule
