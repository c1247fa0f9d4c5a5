package eventpattern

import "testing"

// docEvent is the sample event of the EventBridge User Guide's "Amazon
// EventBridge event patterns" page (an EC2 instance state change), with the
// fields its content-filtering examples use added to detail.
const docEvent = `{
  "version": "0",
  "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
  "detail-type": "EC2 Instance State-change Notification",
  "source": "aws.ec2",
  "account": "111122223333",
  "time": "2017-12-22T18:43:48Z",
  "region": "us-west-1",
  "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
  "detail": {
    "instance-id": "i-1234567890abcdef0",
    "state": "terminated",
    "c-count": 5, "d-count": 7, "x-limit": 301.8,
    "source-ip": "10.0.0.123",
    "FileName": "photo.png",
    "eventVersion": ""
  }
}`

// TestDocumentedExamples are patterns from the EventBridge User Guide
// ("Creating event patterns", "Content filtering in Amazon EventBridge event
// patterns", "Comparison operators") with their documented outcome on the
// sample event.
func TestDocumentedExamples(t *testing.T) {
	cases := []struct {
		name, pattern string
		want          bool
	}{
		{"source and detail-type", `{"source":["aws.ec2"],"detail-type":["EC2 Instance State-change Notification"]}`, true},
		{"state in a list", `{"source":["aws.ec2"],"detail":{"state":["running","terminated"]}}`, true},
		{"state not in the list", `{"detail":{"state":["running","pending"]}}`, false},
		{"prefix on time", `{"time":[{"prefix":"2017-12-22"}]}`, true},
		{"prefix mismatch", `{"time":[{"prefix":"2017-10-02"}]}`, false},
		{"suffix", `{"detail":{"FileName":[{"suffix":".png"}]}}`, true},
		{"suffix ignore case", `{"detail":{"FileName":[{"suffix":{"equals-ignore-case":".PNG"}}]}}`, true},
		{"anything-but a value", `{"detail":{"state":[{"anything-but":"initializing"}]}}`, true},
		{"anything-but the value itself", `{"detail":{"state":[{"anything-but":"terminated"}]}}`, false},
		{"anything-but a list", `{"detail":{"state":[{"anything-but":["stopped","terminated"]}]}}`, false},
		{"anything-but prefix", `{"region":[{"anything-but":{"prefix":"us-"}}]}`, false},
		{"numeric ranges (documented example)", `{"detail":{"c-count":[{"numeric":[">",0,"<=",5]}],"d-count":[{"numeric":["<",10]}],"x-limit":[{"numeric":["=",3.018e2]}]}}`, true},
		{"numeric out of range", `{"detail":{"c-count":[{"numeric":[">",5]}]}}`, false},
		{"numeric does not match a string", `{"detail":{"state":[{"numeric":[">",0]}]}}`, false},
		{"exists true", `{"detail":{"state":[{"exists":true}]}}`, true},
		{"exists false on a present field", `{"detail":{"state":[{"exists":false}]}}`, false},
		{"exists false on a missing field", `{"detail":{"nope":[{"exists":false}]}}`, true},
		{"missing field", `{"detail":{"nope":["x"]}}`, false},
		{"anything-but does not match a missing field", `{"detail":{"nope":[{"anything-but":"x"}]}}`, false},
		{"empty string", `{"detail":{"eventVersion":[""]}}`, true},
		{"cidr", `{"detail":{"source-ip":[{"cidr":"10.0.0.0/24"}]}}`, true},
		{"cidr outside", `{"detail":{"source-ip":[{"cidr":"10.0.1.0/24"}]}}`, false},
		{"event array: any element", `{"resources":["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0","arn:aws:ec2:us-east-1:123456789012:instance/i-other"]}`, true},
		{"wildcard", `{"detail":{"FileName":[{"wildcard":"*.png"}]}}`, true},
		{"equals-ignore-case", `{"detail-type":[{"equals-ignore-case":"ec2 instance state-change notification"}]}`, true},
		{"$or: one alternative holds", `{"detail":{"$or":[{"c-count":[{"numeric":[">",0,"<=",5]}]},{"d-count":[{"numeric":["<",1]}]}]}}`, true},
		{"$or: none holds", `{"detail":{"$or":[{"c-count":[{"numeric":[">",5]}]},{"d-count":[{"numeric":["<",1]}]}]}}`, false},
		{"case matters", `{"source":["AWS.EC2"]}`, false},
	}
	for _, c := range cases {
		got, err := Match([]byte(c.pattern), []byte(docEvent))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s: Match = %v, want %v\npattern %s", c.name, got, c.want, c.pattern)
		}
	}
}

// TestArrayOfObjects: an event array of objects matches if one element
// matches the whole sub-pattern (Security Hub's detail.findings).
func TestArrayOfObjects(t *testing.T) {
	ev := `{"detail":{"findings":[{"Severity":{"Label":"LOW"},"RecordState":"ACTIVE"},{"Severity":{"Label":"HIGH"},"RecordState":"ARCHIVED"}]}}`
	for pattern, want := range map[string]bool{
		`{"detail":{"findings":{"Severity":{"Label":["HIGH"]}}}}`:                            true,
		`{"detail":{"findings":{"Severity":{"Label":["HIGH"]},"RecordState":["ARCHIVED"]}}}`: true,
		`{"detail":{"findings":{"Severity":{"Label":["HIGH"]},"RecordState":["ACTIVE"]}}}`:   false,
	} {
		if got, err := Match([]byte(pattern), []byte(ev)); err != nil || got != want {
			t.Errorf("%s: got %v (%v), want %v", pattern, got, err, want)
		}
	}
}

func TestMalformedPatterns(t *testing.T) {
	for _, p := range []string{`{"source":"aws.ec2"}`, `{"source":[]}`, `{"detail":{"n":[{"numeric":[">"]}]}}`, `{"x":[{"bogus":1}]}`, `[1]`} {
		if _, err := Match([]byte(p), []byte(docEvent)); err == nil {
			t.Errorf("%s: accepted, want an error", p)
		}
	}
}

func TestRender(t *testing.T) {
	got, err := Render(map[string]string{"state": "$.detail.state", "id": "$.detail.instance-id", "n": "$.detail.c-count", "r": "$.resources[0]"},
		`"Instance <id> is <state> (<n>) <r>"`, []byte(docEvent))
	if err != nil {
		t.Fatal(err)
	}
	if want := "Instance i-1234567890abcdef0 is terminated (5) arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"; got != want {
		t.Errorf("Render = %q, want %q", got, want)
	}
	if _, err := Render(map[string]string{"x": "$.detail.nope"}, `"<x>"`, []byte(docEvent)); err == nil {
		t.Error("a missing path rendered, want an error")
	}
}
