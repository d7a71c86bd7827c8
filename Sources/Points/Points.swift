/// The Points service (10 % reward, rounded down to 100) arrives with the saga issue.
public enum Points {}
