// add128_limbs: a 128-bit adder written as four 32-bit additions with carries
// (how RTL adds wide numbers from narrow limbs). The bit-level netlist ripples
// through all 128 bits; the word path keeps each limb's '+' and passes the
// carry between limbs as the next adder's carry-in.
module add128_limbs(input [127:0] a, input [127:0] b, output [127:0] s, output cout);
  wire c1, c2, c3;
  assign {c1, s[31:0]}   = a[31:0]   + b[31:0];
  assign {c2, s[63:32]}  = a[63:32]  + b[63:32]  + c1;
  assign {c3, s[95:64]}  = a[95:64]  + b[95:64]  + c2;
  assign {cout, s[127:96]} = a[127:96] + b[127:96] + c3;
endmodule
