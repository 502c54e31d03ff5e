package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/storetest"
)

func TestDirExplain(t *testing.T) {
	st := storetest.Open(t, "postgres")
	ctx := context.Background()
	var more []*model.Contact
	for i := 0; i < 20000; i++ {
		more = append(more, &model.Contact{Email: fmt.Sprintf("b%d@example.tg", i), FirstName: fmt.Sprintf("P%d", i),
			LastName: fmt.Sprintf("N%d", i), City: []string{"Lomé", "Kara"}[i%2], Audience: i % 5000, Lang: "fr", UnsubscribeToken: fmt.Sprint("t", i),
			Tags: []string{[]string{"tech", "société", "vidéo"}[i%3]}, Channels: []model.ContactChannel{{Platform: []string{"facebook", "x"}[i%2], Handle: fmt.Sprintf("@i%d", i)}}})
	}
	if err := st.Tx(ctx, func(tx *store.Store) error { return tx.ImportContacts(ctx, more, nil) }); err != nil {
		t.Fatal(err)
	}
	db := st.SQLDB()
	if _, err := db.Exec("ANALYZE contacts, contact_tags, contact_channels"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []store.ContactFilter{{}, {Offset: 9950}, {Query: "b1999"}, {Tag: "tech", Platform: "facebook"}, {History: "never_invited", City: "Kara"}} {
		f.Limit = 50
		start := time.Now()
		_, n, err := st.ListContacts(ctx, f)
		t.Logf("%+v: %d in %v %v", f, n, time.Since(start), err)
	}
	for _, q := range []string{
		"SELECT count(*) FROM contacts c WHERE c.erased_at IS NULL",
		"SELECT c.* FROM contacts c WHERE c.erased_at IS NULL ORDER BY c.sort_name, c.id LIMIT 50",
		"SELECT c.* FROM contacts c WHERE c.erased_at IS NULL ORDER BY c.sort_name, c.id LIMIT 50 OFFSET 9950",
		"SELECT c.* FROM contacts c WHERE c.id IN (SELECT c.id FROM contacts c WHERE c.erased_at IS NULL ORDER BY c.sort_name, c.id LIMIT 50 OFFSET 9950) ORDER BY c.sort_name, c.id",
		"SELECT t.tag AS tag, COUNT(*) AS n FROM contact_tags t JOIN contacts c ON c.id = t.contact_id WHERE c.erased_at IS NULL GROUP BY t.tag ORDER BY t.tag",
		"SELECT DISTINCT city FROM contacts WHERE city <> '' AND erased_at IS NULL ORDER BY city LIMIT 300",
		"SELECT count(*) FROM contacts c WHERE c.erased_at IS NULL AND c.id IN (SELECT contact_id FROM contact_tags WHERE tag = 'tech' OR LOWER(tag) = 'tech') AND c.id IN (SELECT contact_id FROM contact_channels WHERE platform = 'facebook')",
	} {
		rows, err := db.Query("EXPLAIN ANALYZE " + q)
		if err != nil {
			t.Fatal(err)
		}
		out := ""
		for rows.Next() {
			var l string
			rows.Scan(&l)
			out += l + "\n"
		}
		rows.Close()
		t.Logf("%s\n%s", q, out)
	}
}
